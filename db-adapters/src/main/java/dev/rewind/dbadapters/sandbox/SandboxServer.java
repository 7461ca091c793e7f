package dev.rewind.dbadapters.sandbox;

import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.ExplainingLine;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A database server process started on a sandbox's mounts, as the OS user that owns its data
 * directory, its output in a log file of the work dir. {@link #start} picks the engine's way;
 * {@link #stop} shuts it down fast and waits for it to exit.
 */
public abstract class SandboxServer {
    private static final Duration POLL = Duration.ofSeconds(2);

    private final Process process;
    private final Path logFile;
    private final int port;

    SandboxServer(Process process, Path logFile, int port) {
        this.process = process;
        this.logFile = logFile;
        this.port = port;
    }

    /** Starts {@code engine}'s server as {@code spec} says; returns once the process runs (not yet accepting connections). */
    public static SandboxServer start(Engine engine, SandboxServerSpec spec) throws IOException {
        return switch (engine) {
            case POSTGRESQL -> PostgresSandboxServer.start(spec);
            case MARIADB -> MariaDbSandboxServer.start(spec);
            case H2 -> throw new RewindException("H2 runs inside its application: there is no server for Rewind to start on a sandbox; "
                    + "open the sandbox's exports (<set>/<member>@sandbox:NAME) with the application yourself");
        };
    }

    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    public Path logFile() {
        return logFile;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Waits until {@code adapter} (connected to this server) gets answers, or refuses after
     * {@code timeout}, or at once when the server exits, with the line of its log that says why.
     */
    public void awaitAcceptingConnections(DatabaseAdapter adapter, Duration timeout) throws IOException {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            if (!process.isAlive()) {
                throw new Exited("the database server on the sandbox exited (exit " + process.exitValue() + "): "
                        + whyItStopped() + "; see " + logFile);
            }
            Duration left = Duration.between(Instant.now(), deadline);
            try {
                adapter.awaitAcceptingConnections(left.compareTo(POLL) < 0 ? (left.isNegative() ? Duration.ZERO : left) : POLL);
                return;
            } catch (RewindException e) {
                if (Instant.now().isAfter(deadline)) {
                    throw new RewindException("the database server on the sandbox did not accept connections within "
                            + timeout.toSeconds() + "s: " + whyItStopped() + "; see " + logFile, e);
                }
            }
        }
    }

    /**
     * The server ended by itself while starting: the database refused the files it found (a
     * crash recovery that fails, a corrupt page), as opposed to Rewind failing to start it.
     */
    public static final class Exited extends RewindException {
        Exited(String message) {
            super(message);
        }
    }

    /** Shuts the server down fast and waits until it has exited; killed when it has not within {@code timeout}. */
    public void stop(Duration timeout) throws IOException {
        if (!process.isAlive()) {
            return;
        }
        signal(fastShutdownSignal());
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(1, TimeUnit.MINUTES);
                throw new RewindException("the database server on the sandbox did not shut down within " + timeout.toSeconds()
                        + "s and was killed; see " + logFile);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the database server on the sandbox", e);
        }
    }

    /** Kills the server at once and waits for it (cleanup after a failure). */
    public void kill() {
        process.destroyForcibly();
        process.onExit().join();
    }

    /** The signal that shuts the engine's server down fast (PostgreSQL: INT; MariaDB: TERM). */
    abstract String fastShutdownSignal();

    private void signal(String name) throws IOException {
        new Commands(logFile).tryRun(Duration.ofSeconds(30), "kill", "-" + name, Long.toString(process.pid()));
    }

    /**
     * The log line that explains why the server gave up or does not answer
     * ({@link ExplainingLine#ofServerLog}: its first PANIC, FATAL or [ERROR], not its last
     * words).
     */
    String whyItStopped() {
        try {
            return Files.exists(logFile) ? ExplainingLine.ofServerLog(Files.readString(logFile)) : "(no log)";
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    /** The owner of {@code dir}, as uid and gid (the server runs as them). */
    record Owner(String name, int uid, int gid) {
        static Owner of(Path dir) throws IOException {
            PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class);
            return new Owner(a.owner().getName(), (Integer) Files.getAttribute(dir, "unix:uid"), (Integer) Files.getAttribute(dir, "unix:gid"));
        }

        void chown(Path p) throws IOException {
            Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", gid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        }

        /** {@code setpriv} in front of a command: runs it as this owner (exec, so the pid stays the server's). */
        List<String> runAs() {
            return List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups", "--");
        }
    }

    /** A directory of the work dir only the server's user may use (sockets, pid file). */
    static Path privateDir(Path dir, Owner owner) throws IOException {
        Files.createDirectories(dir);
        owner.chown(dir);
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        return dir;
    }
}
