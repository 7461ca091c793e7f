package dev.rewind.capture.nbd;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** Resolves the export names clients ask for. Called from several connections at once. */
public interface NbdExports {
    /**
     * The export called {@code exportName}, or empty if there is no such export. A name that
     * is well formed but cannot be served now (a seq beyond the newest write, an unknown
     * bookmark) may instead throw {@link dev.rewind.volumeset.RewindException} with a
     * one-line reason, which the client receives with {@code NBD_REP_ERR_UNKNOWN}.
     */
    Optional<NbdExport> open(String exportName) throws IOException;

    /** The names offered to NBD_OPT_LIST. */
    List<String> names();

    /** An export as NBD_OPT_LIST offers it: its name and a one-line description (may be empty). */
    record Listing(String name, String description) {
    }

    /** What NBD_OPT_LIST answers: {@link #names()} without descriptions, unless the exports describe themselves. */
    default List<Listing> list() {
        return names().stream().map(n -> new Listing(n, "")).toList();
    }
}
