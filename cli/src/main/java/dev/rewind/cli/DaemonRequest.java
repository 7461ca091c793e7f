package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.catalog.Catalog;
import java.nio.file.Path;

/**
 * A command the daemon runs on a client's behalf: the daemon's data dir, open sets and
 * catalog, the client's working directory for relative paths, and whether the client's
 * stderr is a terminal (progress is drawn there, not on the daemon's). Bound to the thread
 * that runs the command.
 */
public record DaemonRequest(Path dataDir, Path workingDir, boolean terminal, DataDir.Daemon daemon, Catalog catalog) {
    private static final ThreadLocal<DaemonRequest> CURRENT = new ThreadLocal<>();

    static DaemonRequest current() {
        return CURRENT.get();
    }

    /** Runs {@code args} as this request and returns the exit code. */
    public int run(String[] args, java.io.PrintWriter out, java.io.PrintWriter err) {
        CURRENT.set(this);
        try {
            return Main.run(out, err, args);
        } finally {
            CURRENT.remove();
        }
    }
}
