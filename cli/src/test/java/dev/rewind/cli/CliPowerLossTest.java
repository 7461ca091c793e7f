package dev.rewind.cli;

import dev.rewind.testfixtures.seed.Seeds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a command reports as done survives power loss the moment it reports it. Each command
 * of the CLI contract runs with the data dir and the PVs on the power-loss file system, and
 * the power is cut as the command prints its result (before it closes anything: the daemon
 * never does); after the restart, what it reported is there and {@code verify} passes.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=20}.
 */
class CliPowerLossTest {
    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(1, 3);
    }

    private PowerLossDisk disk;
    private Random random;
    private String context;
    private String data;

    /** Runs a command and cuts the power as it prints its result; returns what it printed. */
    private String cutAfterReport(String... args) throws IOException {
        StringWriter printed = new StringWriter();
        boolean[] cut = {false};
        Writer cutting = new Writer() {
            @Override
            public void write(char[] buf, int off, int len) {
                if (!cut[0]) {
                    cut[0] = true;
                    try {
                        disk.powerCut(random, PowerLossDisk.Survival.SOME_PAGES);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                printed.write(buf, off, len);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        StringWriter err = new StringWriter();
        Main.run(new PrintWriter(cutting, true), new PrintWriter(err, true), args);
        disk.restart();
        assertTrue(cut[0], () -> context + ": " + String.join(" ", args) + " printed nothing; stderr: " + err);
        return printed.toString();
    }

    private String ok(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(0, exit, () -> context + ": after power loss, " + String.join(" ", args) + " failed: " + err);
        return out.toString();
    }

    private JsonNode json(String... args) throws IOException {
        return new ObjectMapper().readTree(ok(args));
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void whatEachCommandReportsSurvivesPowerLoss(long seed) throws Exception {
        random = new Random(seed);
        context = Seeds.describe(seed);
        Path root = Files.createDirectory(tmp.resolve("disk"));
        Path pvs = Files.createDirectory(root.resolve("pvs"));
        data = root.resolve("data").toString();
        try (PowerLossDisk d = PowerLossFileSystemProvider.installed().track(root)) {
            disk = d;
            cutAfterReport("init", "--data", data);
            assertEquals(0, json("--data", data, "status", "--json").get("sets").size());

            cutAfterReport("--data", data, "pv", "create", "d1", "--path", pvs.resolve("d1.img").toString(), "--size", "8M");
            cutAfterReport("--data", data, "pv", "create", "d2", "--path", pvs.resolve("d2.img").toString(), "--size", "4M");
            String pvList = ok("--data", data, "pv", "list");
            assertTrue(pvList.contains("d1") && pvList.contains("d2"), context + ": " + pvList);

            cutAfterReport("--data", data, "vg", "create", "vg0", "--pv", "d1,d2", "--extent-size", "1M");
            assertTrue(ok("--data", data, "vg", "list").contains("vg0"), context);
            cutAfterReport("--data", data, "lv", "create", "data", "--vg", "vg0", "--size", "6M");
            cutAfterReport("--data", data, "lv", "create", "log", "--vg", "vg0", "--size", "2M");
            String lvList = ok("--data", data, "lv", "list");
            assertTrue(lvList.contains("data") && lvList.contains("log"), context + ": " + lvList);

            cutAfterReport("--data", data, "set", "create", "shop", "--member", "vg0/data", "--member", "vg0/log");
            assertTrue(ok("--data", data, "set", "list").contains("shop"), context);
            ok("--data", data, "verify", "shop");

            byte[] first = writeAndFlushThenCut((byte) 1);
            cutAfterReport("--data", data, "bookmark", "shop", "good");
            JsonNode log = json("--data", data, "log", "shop", "--json");
            assertEquals("good", log.get("bookmarks").get(0).get("name").asText(), context + ": bookmark lost");
            long goodSeq = log.get("bookmarks").get(0).get("seq").asLong();

            writeAndFlushThenCut((byte) 2);
            cutAfterReport("--data", data, "restore", "shop", "--to-bookmark", "good");
            assertArrayEquals(first, readData(), context + ": the restore reported done is not on the primary");
            assertTrue(ok("--data", data, "log", "shop").contains("restore to seq " + goodSeq), context + ": restore record lost");
            ok("--data", data, "verify", "shop");

            Path clone = root.resolve("clone");
            cutAfterReport("--data", data, "restore", "shop", "--to-bookmark", "good", "--clone-to", clone.toString());
            byte[] cloned = Files.readAllBytes(clone.resolve("data.img"));
            assertArrayEquals(first, Arrays.copyOfRange(cloned, OFFSET, OFFSET + first.length), context + ": clone lost");
        }
    }

    private static final int OFFSET = 3 << 20;
    private static final int LENGTH = 100_000;

    /** Writes and flushes through the capture device, then cuts the power before anything is closed. */
    private byte[] writeAndFlushThenCut(byte value) throws IOException {
        byte[] bytes = new byte[LENGTH];
        Arrays.fill(bytes, value);
        DataDir dir = new DataDir(Path.of(data));
        CapturedSet set = dir.openSet("shop");
        set.device("data").write(OFFSET, ByteBuffer.wrap(bytes), false);
        set.device("data").write(OFFSET + LENGTH, ByteBuffer.wrap(new byte[] {value}), false); // not flushed: may be lost
        set.flush();
        set.device("log").write(0, ByteBuffer.wrap(bytes, 0, 4096), false);
        disk.powerCut(random, PowerLossDisk.Survival.SOME_PAGES);
        closeDead(set);
        closeDead(dir);
        disk.restart();
        assertArrayEquals(bytes, readData(), context + ": a flushed write was lost");
        ok("--data", data, "verify", "shop");
        return bytes;
    }

    private byte[] readData() throws IOException {
        try (DataDir dir = new DataDir(Path.of(data)); CapturedSet set = dir.openSet("shop")) {
            ByteBuffer got = ByteBuffer.allocate(LENGTH);
            set.device("data").read(OFFSET, got);
            assertFalse(got.hasRemaining());
            return got.array();
        }
    }

    private static void closeDead(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception expected) {
            // the power is off: nothing it does now reaches the disk
        }
    }
}
