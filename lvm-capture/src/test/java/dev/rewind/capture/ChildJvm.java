package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The crash tests' child JVM, seen from the parent: started on a snapshot of the test class
 * path, its stdout read line by line ({@code FLUSHED <seq>} lines kept as the last flushed
 * seq, every other line kept for messages), killed with SIGKILL, and described (stdout and
 * the tail of stderr) when something goes wrong. Children call {@link #exitWhenParentGoes} so
 * that none outlives the test.
 */
final class ChildJvm implements AutoCloseable {
    private static final String FLUSHED = "FLUSHED ";

    private final Process process;
    private final Path err;
    private final String readyPrefix;
    private final AtomicLong lastFlushed = new AtomicLong(-1);
    private final CountDownLatch ready = new CountDownLatch(1);
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    private final Thread reader;
    private boolean stdoutClosed;

    private ChildJvm(Process process, Path err, String readyPrefix) {
        this.process = process;
        this.err = err;
        this.readyPrefix = readyPrefix;
        this.reader = new Thread(this::readStdout, "crash-child-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code main} with {@code args}; stderr goes to {@code err}. The child is ready once
     * it prints a line starting with {@code readyPrefix} (see {@link #awaitReady}).
     */
    static ChildJvm start(String classPath, Class<?> main, Path err, String readyPrefix, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", classPath, main.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(err.toFile())).start();
        return new ChildJvm(p, err, readyPrefix);
    }

    private void readStdout() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith(FLUSHED)) {
                    lastFlushed.set(Long.parseLong(line.substring(FLUSHED.length()).trim()));
                } else {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
                if (line.startsWith(readyPrefix)) {
                    ready.countDown();
                }
            }
        } catch (IOException | RuntimeException e) {
            lines.add("(reading stdout failed: " + e + ")");
        } finally {
            ready.countDown(); // the child is gone: stop waiting
            synchronized (lines) {
                stdoutClosed = true;
                lines.notifyAll();
            }
        }
    }

    /** Waits for the ready line; fails with what the child said if it does not come or the child died. */
    void awaitReady(String context) throws InterruptedException, IOException {
        if (!ready.await(60, TimeUnit.SECONDS) || !process.isAlive()) {
            fail(context + ": child printed no " + readyPrefix.trim() + " line; alive=" + process.isAlive() + "\n" + describe());
        }
    }

    /**
     * Waits until the child has printed {@code count} lines starting with {@code prefix}; fails
     * with what the child said if it exits first or takes more than a minute.
     */
    void awaitLines(String prefix, int count, String context) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        synchronized (lines) {
            while (lines.stream().filter(l -> l.startsWith(prefix)).count() < count) {
                long left = deadline - System.nanoTime();
                if (stdoutClosed || left <= 0) {
                    break;
                }
                TimeUnit.NANOSECONDS.timedWait(lines, left);
            }
            if (lines.stream().filter(l -> l.startsWith(prefix)).count() >= count) {
                return;
            }
        }
        fail(context + ": child printed fewer than " + count + " " + prefix.trim() + " lines; alive=" + process.isAlive() + "\n" + describe());
    }

    /** The seq of the newest {@code FLUSHED} line, -1 if none yet. */
    long lastFlushed() {
        return lastFlushed.get();
    }

    /** Every stdout line except the {@code FLUSHED} ones, so far. */
    List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** Kills the running child with SIGKILL and waits for it; fails if it had exited by itself. */
    void kill(String context) throws InterruptedException, IOException {
        if (!process.isAlive()) {
            fail(context + ": child exited by itself with " + process.exitValue() + "\n" + describe());
        }
        process.destroyForcibly();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), context + ": child did not die after SIGKILL");
        assertEquals(137, process.exitValue(), context + ": child was killed by SIGKILL\n" + describe());
        reader.join(10_000);
    }

    /** The child's stdout (without FLUSHED lines) and the tail of its stderr. */
    String describe() throws IOException {
        String e = Files.exists(err) ? Files.readString(err, StandardCharsets.UTF_8) : "";
        if (e.length() > 8000) {
            e = "..." + e.substring(e.length() - 8000);
        }
        return "child stdout (non-FLUSHED lines): " + lines() + "\nchild stderr:\n" + e;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
        reader.join(10_000);
    }

    /**
     * In the child: halts the JVM once stdin closes (the parent writes nothing; EOF means it is
     * gone), so that a child never outlives its test.
     */
    static void exitWhenParentGoes() {
        Thread orphanGuard = new Thread(() -> {
            try (InputStream in = System.in) {
                while (in.read() >= 0) {
                    // the parent writes nothing
                }
            } catch (IOException e) {
                // fall through
            }
            Runtime.getRuntime().halt(2);
        }, "orphan-guard");
        orphanGuard.setDaemon(true);
        orphanGuard.start();
    }

    /**
     * The test JVM's class path, with every entry that a build may rewrite (class
     * directories, jars under a {@code target} directory) copied into {@code dir} first, so
     * that children started late in the test do not see a concurrent rebuild's half-written
     * classes.
     */
    static String snapshotClassPath(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            boolean volatileEntry = Files.isDirectory(p) || p.toString().contains(java.io.File.separator + "target" + java.io.File.separator);
            if (!volatileEntry || !Files.exists(p)) {
                out.add(entry);
                continue;
            }
            Path copy = dir.resolve(i++ + "-" + p.getFileName());
            try (java.util.stream.Stream<Path> walk = Files.walk(p)) {
                for (Path src : walk.toList()) {
                    Path dst = copy.resolve(p.relativize(src).toString());
                    if (Files.isDirectory(src)) {
                        Files.createDirectories(dst);
                    } else {
                        Files.createDirectories(dst.getParent());
                        Files.copy(src, dst);
                    }
                }
            }
            out.add(copy.toString());
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
