package dev.rewind.cli.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.cli.Main;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A data dir with one production volume set, and {@code rewind serve} on it as a child
 * process ({@code java -jar target/rewind.jar}, built by {@code package} before Failsafe runs),
 * its output captured to a file. While it serves, {@link #rewind} runs the other commands as
 * separate processes, which forward to the daemon through its control API.
 */
public final class RewindServe implements AutoCloseable {
    public static final String SET = "set";
    private static final Duration CLI_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    public final Path dir;
    public final Path data;
    final Path log;
    private Process process;
    private Path socketDir;
    private boolean tcpWritesNeedCertificates;
    private int port;
    private int starts;

    private RewindServe(Path dir) {
        this.dir = dir;
        this.data = dir.resolve("data");
        this.log = dir.resolve("serve.log");
    }

    /** The command's jar; Maven runs tests with the module as working directory. */
    static Path jar() {
        Path jar = Path.of("target", "rewind.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            fail(jar + " does not exist: run the integration tests with 'mvn verify' (the jar is built by 'package')");
        }
        return jar;
    }

    /**
     * Creates set {@value #SET} in {@code dir}/data: PV pv0 of 200 MiB, VG vg0 with 1 MiB extents,
     * and one LV member per {@code name, size} pair (sizes as the CLI takes them; an LV is
     * rounded up to whole extents). The setup commands run in this JVM ({@link Main#run}) because
     * each {@code java -jar} start costs seconds; everything while serving runs as a real process.
     */
    public static RewindServe create(Path dir, String... lvNamesAndSizes) {
        return createOnPv(dir, "200M", lvNamesAndSizes);
    }

    /** Like {@link #create}, with PV pv0 of {@code pvSize} (as the CLI takes sizes) for members that need more than 200 MiB. */
    public static RewindServe createOnPv(Path dir, String pvSize, String... lvNamesAndSizes) {
        RewindServe s = new RewindServe(dir);
        s.setup("init", "--data", s.data.toString());
        s.setup("--data", s.data.toString(), "pv", "create", "pv0", "--path", dir.resolve("pv0.img").toString(), "--size", pvSize);
        s.setup("--data", s.data.toString(), "vg", "create", "vg0", "--pv", "pv0", "--extent-size", "1M");
        List<String> setArgs = new ArrayList<>(List.of("--data", s.data.toString(), "set", "create", SET));
        for (int i = 0; i < lvNamesAndSizes.length; i += 2) {
            s.setup("--data", s.data.toString(), "lv", "create", lvNamesAndSizes[i], "--vg", "vg0", "--size", lvNamesAndSizes[i + 1]);
            setArgs.addAll(List.of("--member", "vg0/" + lvNamesAndSizes[i]));
        }
        s.setup(setArgs.toArray(new String[0]));
        return s;
    }

    private void setup(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(0, exit, () -> "setup: rewind " + String.join(" ", args) + " failed: " + out + err);
    }

    /**
     * {@code rewind --data DATA args...} run in this JVM, without the daemon's control socket (a
     * second opener of the data dir, as an administrator's own command would be); it must succeed.
     */
    public void inProcess(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--data";
        all[1] = data.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(out, true), new PrintWriter(err, true), all), () -> String.join(" ", args) + ": " + err);
    }

    /** From the next start on, serve puts its sockets in {@code dir} ({@code --socket-dir}). */
    public RewindServe socketDir(Path dir) {
        this.socketDir = dir;
        return this;
    }

    /**
     * From the next start on, serve TCP as {@code rewind serve} does by default: writable only
     * with a checked client certificate. Until then the fixture adds {@code --insecure}: its
     * tests drive the protocol with {@code NbdTestClient}, which speaks TCP.
     */
    public RewindServe tcpWritesNeedCertificates() {
        this.tcpWritesNeedCertificates = true;
        return this;
    }

    /** Starts {@code rewind serve} on a free loopback port and waits until it prints that it listens. */
    public void start() {
        start(new String[0]);
    }

    /** Like {@link #start()}, with more options for {@code rewind serve} (e.g. {@code --tls require --tls-certificates DIR}). */
    public void start(String... serveOptions) {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("serve is already running");
        }
        for (int attempt = 1; ; attempt++) {
            port = Tools.freePort();
            starts++;
            try {
                Files.writeString(log, "=== start " + starts + " on port " + port + "\n", java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
                long logStart = Files.size(log);
                List<String> command = new ArrayList<>(List.of(java(), "-jar", jar().toString(), "--data", data.toString(), "serve",
                        "--listen", "127.0.0.1:" + port));
                if (!tcpWritesNeedCertificates) {
                    command.add("--insecure");
                }
                if (socketDir != null) {
                    command.addAll(List.of("--socket-dir", socketDir.toString()));
                }
                command.addAll(List.of(serveOptions));
                process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
                long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
                for (;;) {
                    String output = Files.readString(log).substring((int) logStart);
                    if (output.lines().anyMatch(l -> l.startsWith("rewind serve:"))) {
                        return;
                    }
                    if (!process.isAlive()) {
                        if (output.contains("already in use") && attempt < 3) {
                            break; // someone took the port in between: try another
                        }
                        fail("rewind serve exited with status " + process.exitValue() + " before listening:\n" + output);
                    }
                    if (System.nanoTime() > deadline) {
                        process.destroyForcibly();
                        fail("rewind serve did not print 'rewind serve:' within " + START_TIMEOUT + ":\n" + output);
                    }
                    Thread.sleep(50);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Sends SIGTERM and waits for the daemon to exit; returns its exit status (fails if it does not exit in time). */
    public int stop() {
        if (process == null) {
            throw new IllegalStateException("serve is not running");
        }
        Process p = process;
        process = null;
        p.destroy(); // SIGTERM
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                fail("rewind serve did not exit within 60 s of SIGTERM:\n" + log());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return p.exitValue();
    }

    /** Kills the daemon with SIGKILL, as a crash would, and waits for it to be gone. */
    void kill() {
        if (process == null) {
            throw new IllegalStateException("serve is not running");
        }
        Process p = process;
        process = null;
        p.destroyForcibly();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                fail("rewind serve survived SIGKILL for 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    boolean isRunning() {
        return process != null && process.isAlive();
    }

    public int port() {
        return port;
    }

    /** {@code nbd+unix:///<export>?socket=DATA/nbd.sock}: the daemon's Unix socket, what clients use by default. */
    public String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + socket();
    }

    /** {@code nbd://127.0.0.1:PORT/<export>}: the TCP listener this fixture asks for with {@code --listen}. */
    public String tcpUri(String export) {
        return "nbd://127.0.0.1:" + port + "/" + export;
    }

    /** The daemon's NBD socket: DATA/nbd.sock, or in its {@link #socketDir}. */
    public Path socket() {
        return (socketDir == null ? data : socketDir).resolve("nbd.sock");
    }

    /** Everything serve printed so far, over all its starts. */
    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs {@code rewind --data DIR args...} as its own process ({@code java -jar}). */
    public Tools.Result rewind(String... args) {
        return rewind(CLI_TIMEOUT, args);
    }

    /** Like {@link #rewind(String...)}, for a command that may take longer than two minutes (a coordinated restore). */
    public Tools.Result rewind(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar().toString(), "--data", data.toString()));
        cmd.addAll(List.of(args));
        return Tools.run(timeout, cmd);
    }

    /** Starts {@code rewind --data DIR args...} and returns at once: its stdout to read as it prints, stderr discarded. */
    public Process startRewind(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar().toString(), "--data", data.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    public Tools.Result ok(String... args) {
        return rewind(args).assertOk();
    }

    public JsonNode json(String... args) {
        Tools.Result r = ok(args);
        try {
            return JSON.readTree(r.out());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + r.describe(), e);
        }
    }

    /** {@code rewind status SET --json}, the set's entry. */
    public JsonNode status() {
        return json("status", SET, "--json").get("sets").get(0);
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Stops serve if it still runs (SIGTERM, then SIGKILL). */
    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            stop();
        }
    }
}
