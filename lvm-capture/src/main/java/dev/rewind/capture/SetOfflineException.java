package dev.rewind.capture;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.time.Instant;

/**
 * The set cannot be opened (a corrupt or missing file of its secondary, an I/O error): it stays
 * offline, alone, while the other sets are served. Says why in one line ({@link #cause()}), since
 * when, and what brings it back.
 */
public final class SetOfflineException extends RewindException {
    private static final long serialVersionUID = 1L;

    private final String setName;
    private final String why;
    private final Instant since;

    public SetOfflineException(String setName, Throwable cause, Instant since) {
        super("set " + setName + " is offline: " + why(cause), hint(setName, cause), cause);
        this.setName = setName;
        this.why = why(cause);
        this.since = since;
    }

    public String setName() {
        return setName;
    }

    /** Why the set could not be opened, in one line (the file and offset of corrupt data). */
    public String why() {
        return why;
    }

    /** When opening it failed. */
    public Instant since() {
        return since;
    }

    private static String why(Throwable cause) {
        if (cause instanceof SetOfflineException o) {
            return o.why();
        }
        if (cause instanceof IOException) {
            return "I/O error: " + cause.getMessage();
        }
        return String.valueOf(cause.getMessage());
    }

    private static String hint(String setName, Throwable cause) {
        String repair = cause instanceof CorruptDataException c
                ? "repair or replace " + c.file() + " (e.g. from a copy of the secondary)"
                : "fix what the error names";
        return repair + ", then 'rewind set reopen " + setName + "' brings it back without restarting rewind serve; "
                + "the other sets are served meanwhile";
    }
}
