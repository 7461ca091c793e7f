package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.cli.datadir.DataDir;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.stream.Stream;

/**
 * Runs the {@code rewind} command in process against a data dir under a temp dir, and checks
 * the contract for refusals: the exit code, one line on stderr, and nothing changed on disk.
 */
final class CliHarness {
    final Path tmp;
    final Path data;
    /** The clock the commands run on; a test moves a {@code MovingClock} here instead of waiting for time to pass. */
    Clock clock = Clock.systemUTC();

    CliHarness(Path tmp) {
        this.tmp = tmp;
        this.data = tmp.resolve("data");
    }

    record Run(int exit, String out, String err) {
        JsonNode json() throws Exception {
            return new ObjectMapper().readTree(out);
        }
    }

    /** {@code rewind --data DATA args...}. */
    Run rewind(String... args) {
        return raw(clock, withData(args));
    }

    /** The data dir on this harness's clock, for a test to open sets and the catalog itself. */
    DataDir dataDir() {
        return new DataDir(data, clock);
    }

    /** {@code rewind args...}, exactly as given (no {@code --data} added). */
    static Run raw(String... args) {
        return raw(Clock.systemUTC(), args);
    }

    /** {@code rewind args...} on {@code clock}. */
    static Run raw(Clock clock, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(clock, new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(exit, out.toString(), err.toString());
    }

    private String[] withData(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--data";
        all[1] = data.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return all;
    }

    Run ok(String... args) {
        Run r = raw(clock, withData(args));
        assertEquals(0, r.exit(), () -> String.join(" ", args) + " failed: " + r.err());
        return r;
    }

    /** Like {@link #raw}, and the command must succeed. */
    static Run rawOk(String... args) {
        Run r = raw(args);
        assertEquals(0, r.exit(), () -> String.join(" ", args) + " failed: " + r.err());
        return r;
    }

    /** Refused as a user mistake (exit 1). */
    Run refused(String expectedFragment, String... args) throws Exception {
        return fails(Main.EXIT_REFUSED, expectedFragment, args);
    }

    /** Refused as bad usage (exit 2). */
    Run usage(String expectedFragment, String... args) throws Exception {
        return fails(Main.EXIT_USAGE, expectedFragment, args);
    }

    Run fails(int exitCode, String expectedFragment, String... args) throws Exception {
        return rawFails(exitCode, expectedFragment, withData(args));
    }

    /** Like {@link #fails} for {@code rewind args...} exactly as given. */
    Run rawFails(int exitCode, String expectedFragment, String... args) throws Exception {
        String before = snapshot();
        Run r = raw(clock, args);
        assertEquals(exitCode, r.exit(), () -> String.join(" ", args) + " should exit " + exitCode + "; out: " + r.out() + " err: " + r.err());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), () -> "error is not one line: " + r.err());
        assertTrue(line.startsWith("rewind: ") && line.contains(expectedFragment), () -> "unexpected error: " + line);
        assertFalse(line.contains("Exception"), () -> "error shows an exception: " + line);
        assertEquals(before, snapshot(), "a refused command changed files on disk: " + String.join(" ", args));
        return r;
    }

    /** Every file under tmp except the catalog database and lock files, with its size and content hash. */
    String snapshot() throws Exception {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> walk = Files.walk(tmp)) {
            for (Path p : walk.sorted().toList()) {
                if (Files.isRegularFile(p) && !p.toString().contains("/catalog/") && !p.getFileName().toString().endsWith(".lock")) {
                    sb.append(tmp.relativize(p)).append(' ').append(Files.size(p)).append(' ')
                            .append(Arrays.hashCode(Files.readAllBytes(p))).append('\n');
                } else if (Files.isDirectory(p)) {
                    sb.append(tmp.relativize(p)).append("/\n");
                }
            }
        }
        return sb.toString();
    }

    /** Set shop: LVs data (18 MiB, over two PVs) and log (2 MiB) of VG vg0, 1 MiB extents. */
    void createShop() {
        ok("init");
        ok("pv", "create", "d1", "--path", tmp.resolve("d1.img").toString(), "--size", "16M");
        ok("pv", "create", "d2", "--path", tmp.resolve("d2.img").toString(), "--size", "8M");
        ok("vg", "create", "vg0", "--pv", "d1,d2", "--extent-size", "1M");
        ok("lv", "create", "data", "--vg", "vg0", "--size", "18M");
        ok("lv", "create", "log", "--vg", "vg0", "--size", "2M");
        ok("set", "create", "shop", "--member", "vg0/data", "--member", "vg0/log");
    }
}
