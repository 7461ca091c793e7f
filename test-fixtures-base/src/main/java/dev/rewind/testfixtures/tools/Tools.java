package dev.rewind.testfixtures.tools;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * External programs for the integration tests ({@code *IT}): finding them, checking for root,
 * running them with a timeout and capturing what they print. What a test cannot have (a tool
 * not installed, not running as root) skips the test with a message saying what to install on
 * a laptop, and fails it when {@code CI=true}: in CI every test must run.
 */
public final class Tools {
    private static final List<String> SBIN_AND_BIN = List.of("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin");

    private Tools() {
    }

    /** What a finished program did: its exit status, standard output and standard error. */
    public record Result(List<String> command, int exit, String out, String err) {
        /** The exit status (same as {@link #exit()}). */
        public int exitCode() {
            return exit;
        }

        /** Standard output, then standard error. */
        public String output() {
            return out + err;
        }

        /** The command, its exit status and both outputs, for assertion messages. */
        public String describe() {
            return String.join(" ", command) + " -> exit " + exit + "\n--- stdout:\n" + tail(out) + "\n--- stderr:\n" + tail(err);
        }

        /** Fails the test with {@link #describe()} unless the program exited with 0. */
        public Result assertOk() {
            if (exit != 0) {
                fail(describe());
            }
            return this;
        }

        private static String tail(String s) {
            return s.length() <= 6000 ? s : "..." + s.substring(s.length() - 6000);
        }
    }

    /** True when the environment variable {@code CI} is {@code true}: tests that cannot run fail instead of skipping. */
    public static boolean isCi() {
        return "true".equals(System.getenv("CI"));
    }

    /** Skips the test with {@code reason}, or fails it when CI=true: in CI every test must run. */
    public static void unavailable(String reason) {
        if (isCi()) {
            fail(reason + " (CI=true: tests that cannot run fail instead of skipping)");
        }
        Assumptions.abort(reason + "; skipping (this fails instead when CI=true)");
    }

    /** Skips the test (fails it in CI) when {@code tool} is not installed; returns its path. */
    public static Path require(String tool, String debianPackage) {
        Path found = find(tool);
        if (found == null) {
            unavailable(tool + " not installed: apt-get install " + debianPackage);
        }
        return found;
    }

    /** Like {@link #require}, as a string for a command line. */
    public static String requireTool(String tool, String debianPackage) {
        return require(tool, debianPackage).toString();
    }

    /** Skips the test (fails it in CI) unless it runs as root. */
    public static void requireRoot(String why) {
        String uid = run(Duration.ofSeconds(10), "id", "-u").out().strip();
        if (!"0".equals(uid)) {
            unavailable("needs root (" + why + "); running as uid " + uid);
        }
    }

    /** The executable {@code tool} on PATH or in the usual sbin and bin directories, or null. */
    public static Path find(String tool) {
        List<String> dirs = new ArrayList<>(Arrays.asList(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(SBIN_AND_BIN);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, tool);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** A TCP port that was free a moment ago on 127.0.0.1. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Result run(Duration timeout, String... command) {
        return run(timeout, List.of(command));
    }

    /**
     * Runs {@code command} (the first word looked up on PATH and in the sbin dirs) with stdin
     * from /dev/null, waiting at most {@code timeout}; past it the program and its children are
     * killed and the test fails with what they printed.
     */
    public static Result run(Duration timeout, List<String> command) {
        List<String> cmd = new ArrayList<>(command);
        Path exe = cmd.get(0).contains("/") ? null : find(cmd.get(0));
        if (exe != null) {
            cmd.set(0, exe.toString());
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            Drain out = new Drain(p.getInputStream());
            Drain err = new Drain(p.getErrorStream());
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                fail(String.join(" ", command) + " did not finish within " + timeout + "\n--- stdout:\n" + out.text() + "\n--- stderr:\n" + err.text());
            }
            return new Result(command, p.exitValue(), out.text(), err.text());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Reads a stream to the end in a background thread. */
    public static final class Drain {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        public Drain(InputStream in) {
            thread = new Thread(() -> {
                byte[] buf = new byte[8192];
                try (in) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        synchronized (bytes) {
                            bytes.write(buf, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // the process is gone; keep what was read
                }
            }, "drain");
            thread.setDaemon(true);
            thread.start();
        }

        /** Everything read so far; waits briefly for the end of the stream first. */
        public String text() {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return snapshot();
        }

        /** Everything read so far, without waiting. */
        public String snapshot() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
