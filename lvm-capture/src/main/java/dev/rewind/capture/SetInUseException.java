package dev.rewind.capture;

import dev.rewind.volumeset.RewindException;

/** The set is open in another process (or elsewhere in this one). */
public final class SetInUseException extends RewindException {
    private static final long serialVersionUID = 1L;

    public SetInUseException(String message) {
        super(message);
    }
}
