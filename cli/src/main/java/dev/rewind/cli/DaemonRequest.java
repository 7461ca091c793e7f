package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.catalog.Catalog;
import java.nio.file.Path;

/**
 * A command the daemon runs on a client's behalf: the daemon's data dir, open sets and
 * catalog, the client's working directory for relative paths, whether the client's stderr
 * is a terminal (progress is drawn there, not on the daemon's), and whether the client has
 * gone; the command reads the daemon's clock. Bound to the thread that runs the command.
 */
public record DaemonRequest(Path dataDir, Path workingDir, boolean terminal, java.util.function.BooleanSupplier clientGone,
        DataDir.Daemon daemon, Catalog catalog, java.time.Clock clock) {
    private static final ThreadLocal<DaemonRequest> CURRENT = new ThreadLocal<>();

    static DaemonRequest current() {
        return CURRENT.get();
    }

    /**
     * Whether the client of the command this thread runs for the daemon has gone (Ctrl-C);
     * false outside the daemon, where Ctrl-C ends the process itself.
     */
    static boolean isClientGone() {
        DaemonRequest r = CURRENT.get();
        return r != null && r.clientGone().getAsBoolean();
    }

    /** Runs {@code args} as this request and returns the exit code. */
    public int run(String[] args, java.io.PrintWriter out, java.io.PrintWriter err) {
        CURRENT.set(this);
        try {
            return Main.run(clock, out, err, args);
        } finally {
            CURRENT.remove();
        }
    }
}
