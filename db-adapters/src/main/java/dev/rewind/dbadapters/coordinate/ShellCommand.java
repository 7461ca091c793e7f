package dev.rewind.dbadapters.coordinate;

import dev.rewind.dbadapters.api.ExplainingLine;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.RewindException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A DBA's shell command (the stop or start command of an attachment), run as
 * {@code /bin/sh -c COMMAND} with {@code REWIND_SET} set to the set's name, its standard
 * output and error captured together, within a timeout (after which it and its children are
 * killed). A non-zero exit or a timeout is a {@link RewindException} naming the command's
 * role, its exit status and the last line it printed.
 */
public final class ShellCommand {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    /** What a finished command printed (standard output and error, interleaved). */
    public record Output(int exit, String text) {
    }

    private final String role;
    private final String command;
    private final String setName;
    private final Duration timeout;

    /** {@code role} names the command in messages, e.g. {@code stop command}. */
    public ShellCommand(String role, String command, String setName, Duration timeout) {
        this.role = role;
        this.command = command;
        this.setName = setName;
        this.timeout = timeout;
    }

    public ShellCommand(String role, String command, String setName) {
        this(role, command, setName, DEFAULT_TIMEOUT);
    }

    /** Runs the command; returns its output when it exits with 0, otherwise refuses. */
    public Output run() throws IOException {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true);
        pb.environment().put("REWIND_SET", setName);
        Process p = pb.start();
        p.getOutputStream().close();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Thread drain = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(buf);
            } catch (IOException e) {
                // the process is gone; keep what was read
            }
        }, "rewind-shell-output");
        drain.setDaemon(true);
        drain.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                // the shell first, so it does not report its children's deaths as its last words
                var children = p.descendants().toList();
                p.destroyForcibly();
                children.forEach(ProcessHandle::destroyForcibly);
                p.waitFor(10, TimeUnit.SECONDS);
                drain.join(2000);
                throw new RewindException(role + " did not finish within " + Durations.format(timeout) + " and was killed: "
                        + lastLine(text(buf)));
            }
            // a command that leaves a server running in the background may leave it holding the
            // output pipe: what was printed until the command exited is enough
            drain.join(2_000);
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running the " + role, e);
        }
        String text = text(buf);
        if (p.exitValue() != 0) {
            throw new RewindException(role + " exited with " + p.exitValue() + ": " + lastLine(text));
        }
        return new Output(0, text);
    }

    private static String text(ByteArrayOutputStream buf) {
        synchronized (buf) {
            return buf.toString(StandardCharsets.UTF_8);
        }
    }

    /** The line of a failed command's output that explains it ({@link ExplainingLine#ofCommandOutput}). */
    static String lastLine(String text) {
        return ExplainingLine.ofCommandOutput(text);
    }
}
