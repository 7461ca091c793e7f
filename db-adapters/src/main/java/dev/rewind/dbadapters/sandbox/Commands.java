package dev.rewind.dbadapters.sandbox;

import dev.rewind.dbadapters.api.ExplainingLine;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs the system tools a sandbox database needs ({@code losetup}, {@code mount}, {@code
 * pg_ctl}, ...) to completion: the command line and its output appended to a log file in the
 * work dir; a failure is one line naming the tool, its exit and last line, and the log.
 */
final class Commands {
    private final Path log;

    Commands(Path log) {
        this.log = log;
    }

    Path log() {
        return log;
    }

    /** Runs {@code cmd}; its standard output (stderr goes to the log) when it exits with 0, else a RewindException. */
    String run(Duration timeout, String... cmd) throws IOException {
        Result r = tryRun(timeout, cmd);
        if (r.exit() != 0) {
            throw new RewindException(cmd[0] + " " + (cmd.length > 1 ? cmd[1] + " " : "") + "failed (exit " + r.exit() + "): "
                    + lastLine(r.output()) + "; see " + log);
        }
        return r.output();
    }

    /** What a finished command printed and its exit status (-1: killed after {@code timeout}). */
    record Result(int exit, String output) {
    }

    /** Runs {@code cmd} whatever its exit. */
    Result tryRun(Duration timeout, String... cmd) throws IOException {
        append("$ " + String.join(" ", cmd) + "\n");
        Path out = Files.createTempFile(log.getParent(), ".command", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            boolean exited;
            try {
                exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!exited) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + cmd[0], e);
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            if (!exited) {
                append(text + "\n(killed after " + timeout.toSeconds() + "s)\n");
                return new Result(-1, "did not finish within " + timeout.toSeconds() + "s");
            }
            append(text + (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + (p.exitValue() == 0 ? "" : "(exit " + p.exitValue() + ")\n"));
            return new Result(p.exitValue(), text);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    void append(String text) throws IOException {
        Files.writeString(log, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Refuses unless this process runs as root. */
    static void requireRoot(String doing) throws IOException {
        Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (!Integer.valueOf(0).equals(uid)) {
            throw new RewindException(doing + " needs root (loop devices, mount): run rewind serve as root");
        }
    }

    /** The line of a failed tool's output that explains it ({@link ExplainingLine#ofCommandOutput}). */
    static String lastLine(String text) {
        return ExplainingLine.ofCommandOutput(text);
    }

    static void sleep(Duration d) throws IOException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
