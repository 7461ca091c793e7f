package dev.rewind.cli.nbd;

import static dev.rewind.cli.nbd.RewindServe.SET;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.capture.nbd.NbdProtocol;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code rewind serve} as a child process, driven by the real NBD clients users run:
 * {@code nbdinfo}, {@code qemu-io}/{@code qemu-img}, {@code nbdcopy}, {@code fio --ioengine=nbd}.
 * One daemon serves the whole class; a byte array models member {@code data} (every test that
 * writes keeps it up to date, and a test that fails half way has it reloaded from the server).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NbdClientsIT {
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
    private static final long MIB = 1 << 20;
    private static final long DATA_BYTES = 64 * MIB;
    /** Asked for 9 MiB + 513 bytes: rounded up to whole 1 MiB extents. */
    private static final long SMALL_BYTES = 10 * MIB;
    private static final long SCRATCH_BYTES = 32 * MIB;

    Path dir;
    RewindServe serve;
    /** What {@code set/data} holds; trusted only while {@link #modelTrusted}. */
    byte[] model = new byte[(int) DATA_BYTES];
    boolean modelTrusted = true;

    @BeforeAll
    void startServe(@TempDir Path tempDir) {
        dir = tempDir;
        serve = RewindServe.create(dir, "data", "64M", "small", String.valueOf(9 * MIB + 513), "scratch", "32M");
        serve.start();
    }

    @AfterAll
    void stopServe() {
        if (serve != null && serve.isRunning()) {
            int exit = serve.stop();
            System.out.println("NbdClientsIT: rewind serve exited with status " + exit + " on SIGTERM");
            assertTrue(exit == 0 || exit == 143, "rewind serve exited with status " + exit + " on SIGTERM:\n" + serve.log());
        }
        if (serve != null) {
            System.out.println("NbdClientsIT: rewind serve printed:\n" + serve.log());
            assertFalse(serve.log().contains("Exception"), () -> "rewind serve printed an exception:\n" + serve.log());
        }
    }

    @BeforeEach
    void serveRunsAndTheModelIsTrusted() throws IOException {
        if (!serve.isRunning()) {
            serve.start(); // a test that stopped it failed half way
        }
        if (!modelTrusted) {
            try (NbdTestClient c = NbdTestClient.open(serve.port(), SET + "/data")) {
                for (long off = 0; off < DATA_BYTES; off += 4 * MIB) {
                    System.arraycopy(c.read(off, (int) (4 * MIB)), 0, model, (int) off, (int) (4 * MIB));
                }
            }
            modelTrusted = true;
        }
    }

    @Test
    void nbdinfoListsEveryExportWithItsSizeAndThePastAsReadOnly() throws Exception {
        String nbdinfo = Tools.requireTool("nbdinfo", "libnbd-bin");
        serve.ok("bookmark", SET, "listed");
        JsonNode list = new ObjectMapper().readTree(Tools.run(TOOL_TIMEOUT, nbdinfo, "--json", "--list", serve.uri("")).assertOk().out());
        Map<String, Long> sizes = new TreeMap<>();
        Map<String, Long> bookmarked = new TreeMap<>();
        for (JsonNode e : list.get("exports")) {
            String name = e.get("export-name").asText();
            if (name.contains("@bookmark:")) {
                assertTrue(e.get("is_read_only").asBoolean(), () -> e + " is writable");
                bookmarked.put(name, e.get("export-size").asLong());
                continue;
            }
            sizes.put(name, e.get("export-size").asLong());
            assertFalse(e.get("is_read_only").asBoolean(), () -> e + " is read-only");
        }
        assertEquals(Map.of("set/data", DATA_BYTES, "set/small", SMALL_BYTES, "set/scratch", SCRATCH_BYTES), sizes,
                "nbdinfo --list: every member, with its size rounded up to whole extents");
        assertEquals(Map.of("set/data@bookmark:listed", DATA_BYTES, "set/small@bookmark:listed", SMALL_BYTES,
                "set/scratch@bookmark:listed", SCRATCH_BYTES), Map.copyOf(Map.of(
                "set/data@bookmark:listed", bookmarked.getOrDefault("set/data@bookmark:listed", -1L),
                "set/small@bookmark:listed", bookmarked.getOrDefault("set/small@bookmark:listed", -1L),
                "set/scratch@bookmark:listed", bookmarked.getOrDefault("set/scratch@bookmark:listed", -1L))),
                "and each member at each bookmark of the set, read-only: " + bookmarked.keySet());

        JsonNode past = new ObjectMapper().readTree(Tools.run(TOOL_TIMEOUT, nbdinfo, "--json", serve.uri("set/small@0")).assertOk().out())
                .get("exports").get(0);
        assertTrue(past.get("is_read_only").asBoolean(), "set/small@0 is read-only: " + past);
        assertEquals(SMALL_BYTES, past.get("export-size").asLong());
    }

    static LongStream seeds() {
        return Seeds.of(0x9E30_0001L);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void qemuIoPatternsAtAlignedAndUnalignedOffsetsReadBackAndQemuImgCompareAgrees(long seed) throws Exception {
        String qemuIo = Tools.requireTool("qemu-io", "qemu-utils");
        Tools.requireTool("qemu-img", "qemu-utils");
        Random rnd = new Random(seed);
        List<long[]> writes = new ArrayList<>(List.of(
                new long[] {0, 1}, new long[] {1, 511}, new long[] {511, 2}, new long[] {512, 512}, new long[] {4095, 2},
                new long[] {4096, 4096}, new long[] {65_535, 65_537}, new long[] {MIB - 1, 2}, new long[] {MIB - 300, 65_537},
                new long[] {3 * MIB - 7, MIB + 14}, new long[] {5 * MIB, MIB}, new long[] {8 * MIB + 123, 511},
                new long[] {17 * MIB + 1, 3 * MIB}, new long[] {32 * MIB - 4096, 8192}, new long[] {DATA_BYTES - 65_537, 65_537},
                new long[] {DATA_BYTES - 1, 1}));
        for (int i = 0; i < 40; i++) {
            long len = switch (rnd.nextInt(4)) {
                case 0 -> 1 + rnd.nextInt(4096);
                case 1 -> 512L * (1 + rnd.nextInt(128));
                case 2 -> 4096L * (1 + rnd.nextInt(64));
                default -> 1 + rnd.nextInt(300_000);
            };
            long off = (long) (rnd.nextDouble() * (DATA_BYTES - len));
            writes.add(new long[] {rnd.nextBoolean() ? off : off & ~4095L, len});
        }
        modelTrusted = false;
        List<String> cmd = new ArrayList<>(List.of(qemuIo, "-f", "raw", serve.uri("set/data")));
        for (long[] w : writes) {
            int pattern = 1 + rnd.nextInt(255);
            cmd.addAll(List.of("-c", String.format("write -P 0x%02x %d %d", pattern, w[0], w[1])));
            cmd.addAll(List.of("-c", String.format("read -P 0x%02x %d %d", pattern, w[0], w[1])));
            Arrays.fill(model, (int) w[0], (int) (w[0] + w[1]), (byte) pattern);
        }
        Tools.Result r = Tools.run(TOOL_TIMEOUT, cmd).assertOk();
        assertFalse(r.out().contains("failed") || r.err().contains("failed"), () -> Seeds.describe(seed) + ": " + r.describe());
        assertEquals(writes.size(), r.out().lines().filter(l -> l.startsWith("read ")).count(), () -> Seeds.describe(seed) + ": " + r.describe());
        modelTrusted = true;
        assertExportEqualsModel("set/data", model, Seeds.describe(seed));
    }

    @Test
    void nbdcopyCopiesExportsOutAndInByteForByte() throws Exception {
        String nbdcopy = Tools.requireTool("nbdcopy", "libnbd-bin");
        Path out = dir.resolve("copy.img");
        Tools.run(TOOL_TIMEOUT, nbdcopy, serve.uri("set/data"), out.toString()).assertOk();
        assertSameBytes(model, Files.readAllBytes(out), "nbdcopy of set/data");
        Files.delete(out);

        // into a member, over several connections: first random data everywhere, then random data with a zero hole
        // (which nbdcopy sends as zeroing requests)
        byte[] image = new byte[(int) SMALL_BYTES];
        new Random(7).nextBytes(image);
        Path in = dir.resolve("in.img");
        Files.write(in, image);
        Tools.run(TOOL_TIMEOUT, nbdcopy, in.toString(), serve.uri("set/small")).assertOk();
        new Random(8).nextBytes(image);
        Arrays.fill(image, (int) (3 * MIB), (int) (5 * MIB), (byte) 0);
        Files.write(in, image);
        Tools.run(TOOL_TIMEOUT, nbdcopy, in.toString(), serve.uri("set/small")).assertOk();
        Path back = dir.resolve("back.img");
        Tools.run(TOOL_TIMEOUT, nbdcopy, serve.uri("set/small"), back.toString()).assertOk();
        assertSameBytes(image, Files.readAllBytes(back), "nbdcopy into set/small and back");
        Files.delete(in);
        Files.delete(back);
    }

    @Test
    void fioRandomWritesVerifyOnTwoConnectionsAtOnceAndEveryWriteIsCaptured() throws Exception {
        String fio = Tools.requireTool("fio", "fio");
        long before = serve.status().get("lastSeq").asLong();
        Path json = dir.resolve("fio.json");
        Tools.Result r = Tools.run(TOOL_TIMEOUT, fio, "--name=rewind", "--ioengine=nbd", "--uri=" + serve.uri("set/scratch"),
                "--rw=randwrite", "--bs=4k", "--size=16M", "--offset_increment=16M", "--numjobs=2", "--iodepth=16",
                "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--output-format=json", "--output=" + json);
        String report = Files.exists(json) ? Files.readString(json) : "(no JSON report)";
        assertEquals(0, r.exit(), () -> r.describe() + "\n" + report);
        JsonNode jobs = new ObjectMapper().readTree(report).get("jobs");
        assertEquals(2, jobs.size(), "two jobs, each on its own NBD connection");
        for (JsonNode job : jobs) {
            assertEquals(0, job.get("error").asInt(), () -> "fio job failed: " + job);
            assertEquals(16 * MIB, job.get("write").get("io_bytes").asLong(), () -> "bytes written: " + job.get("write"));
            assertEquals(16 * MIB, job.get("read").get("io_bytes").asLong(), () -> "bytes verified: " + job.get("read"));
        }
        long after = serve.status().get("lastSeq").asLong();
        assertEquals(2 * 16 * MIB / 4096, after - before, "every 4 KiB write of fio is one captured, numbered write");
    }

    @Test
    void pastExportsServeTheBookmarkSeqAndTimeReadOnlyWhileThePresentMovesOn() throws Exception {
        String qemuIo = Tools.requireTool("qemu-io", "qemu-utils");
        Tools.requireTool("qemu-img", "qemu-utils");
        long off = 40 * MIB + 123;
        int len = 300_000;
        long off2 = 50 * MIB + 7;
        int len2 = 70_000;
        modelTrusted = false;
        Tools.run(TOOL_TIMEOUT, qemuIo, "-f", "raw", serve.uri("set/data"), "-c", "write -P 0xa1 " + off + " " + len,
                "-c", "write -P 0xa2 " + off2 + " " + len2).assertOk();
        Arrays.fill(model, (int) off, (int) off + len, (byte) 0xa1);
        Arrays.fill(model, (int) off2, (int) off2 + len2, (byte) 0xa2);
        long seqA = serve.json("bookmark", SET, "a", "--json").get("seq").asLong();
        Instant afterA = Instant.now();
        Thread.sleep(20);
        byte[] modelA = model.clone();

        Tools.run(TOOL_TIMEOUT, qemuIo, "-f", "raw", serve.uri("set/data"), "-c", "write -P 0xb2 " + off + " " + len).assertOk();
        Arrays.fill(model, (int) off, (int) off + len, (byte) 0xb2);
        modelTrusted = true;

        Tools.run(TOOL_TIMEOUT, qemuIo, "-r", "-f", "raw", serve.uri("set/data"), "-c", "read -P 0xb2 " + off + " " + len).assertOk();
        for (String past : List.of("set/data@bookmark:a", "set/data@" + seqA, "set/data@time:" + afterA)) {
            Tools.Result r = Tools.run(TOOL_TIMEOUT, qemuIo, "-r", "-f", "raw", serve.uri(past), "-c", "read -P 0xa1 " + off + " " + len,
                    "-c", "read -P 0xa2 " + off2 + " " + len2).assertOk();
            assertFalse(r.out().contains("failed"), r::describe);
            assertExportEqualsModel(past, modelA, "the past at seq " + seqA);
        }

        // a real client cannot write to the past...
        Tools.Result write = Tools.run(TOOL_TIMEOUT, qemuIo, "-f", "raw", serve.uri("set/data@bookmark:a"), "-c", "write -P 0x55 " + off + " 512");
        assertTrue(write.exit() != 0 || write.err().contains("read-only") || write.out().contains("failed"),
                () -> "a write to set/data@bookmark:a did not fail: " + write.describe());
        // ...and the server refuses one from a client that ignores the read-only flag
        try (NbdTestClient c = NbdTestClient.open(serve.port(), "set/data@bookmark:a")) {
            assertTrue(c.isReadOnly(), "NBD_FLAG_READ_ONLY on set/data@bookmark:a");
            assertEquals(DATA_BYTES, c.sizeBytes());
            assertEquals(NbdProtocol.EPERM, c.write(off, new byte[512]), "NBD_CMD_WRITE on a read-only export gets EPERM");
            assertArrayEquals(Arrays.copyOfRange(modelA, (int) off, (int) off + 512), c.read(off, 512));
        }
        assertEquals(seqA + 1, serve.status().get("lastSeq").asLong(),
                "only the one write of pattern B was captured after bookmark a; the refused writes never reached the journal");
        assertExportEqualsModel("set/data", model, "the present after writes to the past were refused");
    }

    @Test
    void restoreInPlaceIsRefusedWhileClientsAreConnectedAndDisconnectWithForceDropsThem() throws Exception {
        String qemuIo = Tools.requireTool("qemu-io", "qemu-utils");
        Tools.requireTool("qemu-img", "qemu-utils");
        long r0 = serve.json("bookmark", SET, "r0", "--json").get("seq").asLong();
        long junkOff = 20 * MIB + 5;
        int junkLen = 100_000;
        modelTrusted = false;
        Tools.run(TOOL_TIMEOUT, qemuIo, "-f", "raw", serve.uri("set/data"), "-c", "write -P 0xee " + junkOff + " " + junkLen).assertOk();

        Process interactive = new ProcessBuilder(qemuIo, "-f", "raw", serve.uri("set/data")).start();
        Tools.Drain out = new Tools.Drain(interactive.getInputStream());
        Tools.Drain err = new Tools.Drain(interactive.getErrorStream());
        OutputStream commands = interactive.getOutputStream();
        try (NbdTestClient raw = NbdTestClient.open(serve.port(), SET + "/small")) {
            command(commands, out, err, "read 0 512", "read 512/512");

            Tools.Result refused = serve.rewind("restore", SET, "--to-bookmark", "r0");
            assertNotEquals(0, refused.exit(), refused::describe);
            String line = refused.err().strip();
            assertEquals(1, line.lines().count(), refused::describe);
            assertTrue(line.contains("2 connected NBD client"), () -> "the refusal names the client count: " + line);
            assertTrue(line.contains("--coordinated") && !line.contains("--disconnect"),
                    () -> "the refusal advises what is safe for a running database, not pulling its disk: " + line);
            Tools.Result unforced = serve.rewind("restore", SET, "--to-bookmark", "r0", "--disconnect");
            assertEquals(2, unforced.exit(), unforced::describe);
            assertTrue(unforced.err().contains("--force") && unforced.err().contains("--coordinated"), unforced::describe);
            command(commands, out, err, "read -P 0xee " + junkOff + " " + junkLen, "read " + junkLen + "/" + junkLen);
            assertFalse(out.snapshot().contains("failed"), "the refused restore changed nothing: " + out.snapshot());

            JsonNode restored = serve.json("restore", SET, "--to-bookmark", "r0", "--disconnect", "--force", "--json");
            assertEquals(r0, restored.get("targetSeq").asLong());
            assertTrue(raw.closedByServerWithin(Duration.ofSeconds(10)), "--disconnect closed the raw client's connection");
            command(commands, out, err, "read 0 512", "failed"); // qemu-io's connection was dropped: its next read fails
        } finally {
            try {
                commands.write("quit\n".getBytes(StandardCharsets.US_ASCII));
                commands.close();
            } catch (IOException e) {
                // qemu-io is gone already
            }
            if (!interactive.waitFor(10, TimeUnit.SECONDS)) {
                interactive.destroyForcibly();
            }
        }
        modelTrusted = true;
        assertExportEqualsModel("set/data", model, "after the restore to bookmark r0 the junk is gone");
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void sigtermLosesNothingAckedAndAStartAgainServesTheSameData(long seed) throws Exception {
        Tools.requireTool("qemu-img", "qemu-utils");
        long before = serve.status().get("lastSeq").asLong();
        Random rnd = new Random(seed);
        long[] offsets = {3 * MIB + 17, 33 * MIB, DATA_BYTES - 5000};
        int exit;
        modelTrusted = false;
        try {
            try (NbdTestClient c = NbdTestClient.open(serve.port(), SET + "/data")) {
                for (long off : offsets) {
                    byte[] bytes = new byte[5000];
                    rnd.nextBytes(bytes);
                    assertEquals(0, c.write(off, bytes));
                    System.arraycopy(bytes, 0, model, (int) off, bytes.length);
                }
                // acknowledged, never flushed, client still connected: SIGTERM must flush and close cleanly
                exit = serve.stop();
                assertTrue(c.closedByServerWithin(Duration.ofSeconds(5)), "serve closed the client's connection on the way out");
            }
            modelTrusted = true;
            System.out.println("NbdClientsIT: rewind serve exited with status " + exit + " on SIGTERM with a client connected");
            assertTrue(exit == 0 || exit == 143, "exit status " + exit + " on SIGTERM:\n" + serve.log());

            JsonNode status = serve.status(); // no daemon now: the command opens the data dir itself
            assertEquals(before + offsets.length, status.get("lastSeq").asLong(), "every acknowledged write is in the journal");
            assertEquals(status.get("lastSeq").asLong(), status.get("flushedSeq").asLong(), "the journal was flushed on SIGTERM");
            assertFalse(status.get("recovered").asBoolean(), "a clean stop needs no recovery: " + status);
        } finally {
            if (!serve.isRunning()) {
                serve.start();
            }
        }
        assertExportEqualsModel("set/data", model, "after SIGTERM and a new start");
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void afterSigkillServeStartsAgainAndEveryAnsweredAndFlushedWriteIsThere(long seed) throws Exception {
        Tools.requireTool("qemu-img", "qemu-utils");
        long[] offsets = {7 * MIB + 3, 45 * MIB, 60 * MIB + 4095};
        Random rnd = new Random(seed);
        modelTrusted = false;
        try {
            try (NbdTestClient writer = NbdTestClient.open(serve.port(), SET + "/data");
                    NbdTestClient flusher = NbdTestClient.open(serve.port(), SET + "/data")) {
                assertTrue((writer.transmissionFlags() & NbdProtocol.FLAG_CAN_MULTI_CONN) != 0,
                        "the server advertises NBD_FLAG_CAN_MULTI_CONN, so a flush on any connection covers every answered write");
                for (long off : offsets) {
                    byte[] bytes = new byte[3000];
                    rnd.nextBytes(bytes);
                    assertEquals(0, writer.write(off, bytes));
                    System.arraycopy(bytes, 0, model, (int) off, bytes.length);
                }
                assertEquals(0, flusher.flush()); // on another connection: NBD_FLAG_CAN_MULTI_CONN says it covers the writes above
                // SIGKILL: no shutdown hook. (The page cache outlives the process, so this cannot tell a flush that
                // forced the journal from one that did not: power loss is what the journal's fault-injection tests simulate.)
                serve.kill();
            }
            modelTrusted = true;
        } finally {
            if (!serve.isRunning()) {
                serve.start(); // over the dead daemon's leftover files, with journal recovery
            }
        }
        assertExportEqualsModel("set/data", model, "after SIGKILL and a new start");
        JsonNode status = serve.status();
        assertEquals(status.get("lastSeq").asLong(), status.get("flushedSeq").asLong(), status::toString);
    }

    // ---- helpers ----

    /** {@code qemu-img compare} of an export with the model, written out as a raw image. */
    private void assertExportEqualsModel(String export, byte[] image, String context) throws IOException {
        Path reference = dir.resolve("reference.img");
        Files.write(reference, image);
        Tools.Result r = Tools.run(TOOL_TIMEOUT, "qemu-img", "compare", "-f", "raw", "-F", "raw", serve.uri(export), reference.toString());
        Files.delete(reference);
        assertEquals(0, r.exit(), () -> context + ": " + export + " differs from the reference image: " + r.describe());
    }

    private static void assertSameBytes(byte[] expected, byte[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        int at = Arrays.mismatch(expected, actual);
        if (at >= 0) {
            fail(what + ": first difference at byte " + at + " (expected " + expected[at] + ", got " + actual[at] + ")");
        }
    }

    /** Sends one command to an interactive qemu-io and waits until {@code expected} appears once more in its output. */
    private static void command(OutputStream commands, Tools.Drain out, Tools.Drain err, String command, String expected) throws IOException {
        int before = count(out.snapshot() + err.snapshot(), expected);
        commands.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
        commands.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (count(out.snapshot() + err.snapshot(), expected) <= before) {
            if (System.nanoTime() > deadline) {
                fail("qemu-io: no '" + expected + "' within 30 s of '" + command + "'; output:\n" + out.snapshot() + err.snapshot());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
