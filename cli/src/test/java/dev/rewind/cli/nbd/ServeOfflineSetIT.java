package dev.rewind.cli.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.cli.Main;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One set's corrupt file keeps only that set offline: {@code rewind serve} starts and serves the
 * other sets over its Unix socket, status names the damaged set and why, its commands and exports
 * are refused with the reason and what to do, the daemon's log says it once, and
 * {@code rewind set reopen} brings it back once the file is repaired.
 */
class ServeOfflineSetIT {
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
    private static final int DATA_BYTES = 4 << 20;
    /** A byte of the set UUID in the transaction log's header, which its CRC32C covers. */
    private static final long TRANSACTION_LOG_UUID_BYTE = 20;

    @TempDir
    Path dir;

    @Test
    void aSetWithACorruptTransactionLogStaysOfflineAloneWhileTheOtherSetIsServed() throws Exception {
        String nbdcopy = Tools.requireTool("nbdcopy", "libnbd-bin");
        String nbdinfo = Tools.requireTool("nbdinfo", "libnbd-bin");
        try (RewindServe serve = RewindServe.create(dir, "data", "4M")) {
            serve.inProcess("lv", "create", "extra", "--vg", "vg0", "--size", "2M");
            serve.inProcess("set", "create", "other", "--member", "vg0/extra");
            Path log = serve.data.resolve("sets").resolve("other").resolve("transactions").resolve("transactions.log");
            flipByte(log, TRANSACTION_LOG_UUID_BYTE);
            byte[] damaged = Files.readAllBytes(log);

            serve.start();

            byte[] image = new byte[DATA_BYTES];
            new Random(11).nextBytes(image);
            Path in = Files.write(dir.resolve("in.img"), image);
            Tools.run(TOOL_TIMEOUT, nbdcopy, in.toString(), serve.uri("set/data")).assertOk();
            Path back = dir.resolve("back.img");
            Tools.run(TOOL_TIMEOUT, nbdcopy, serve.uri("set/data"), back.toString()).assertOk();
            assertArrayEquals(image, Files.readAllBytes(back), "set/data is written and read back over the Unix socket");

            JsonNode sets = serve.json("status", "--json").get("sets");
            JsonNode good = byName(sets, RewindServe.SET);
            JsonNode bad = byName(sets, "other");
            assertEquals("online", good.get("state").asText(), good.toString());
            assertEquals("offline", bad.get("state").asText(), bad.toString());
            assertTrue(bad.get("reason").asText().contains(log.toString()), "the reason names the file: " + bad);
            assertTrue(bad.get("hint").asText().contains("rewind set reopen other"), bad.toString());
            String human = serve.ok("status").out();
            assertTrue(human.lines().anyMatch(l -> l.startsWith("set other: OFFLINE since ") && l.contains("transactions.log")), human);

            Tools.Result verify = serve.rewind("verify", "other");
            assertEquals(Main.EXIT_CORRUPT, verify.exit(), verify.describe());
            assertTrue(verify.err().contains("set other is offline: ") && verify.err().contains("transactions.log")
                    && verify.err().contains("rewind set reopen other"), verify.describe());
            assertEquals(1, verify.err().strip().lines().count(), verify.describe());
            Tools.Result export = Tools.run(TOOL_TIMEOUT, nbdinfo, serve.uri("other/extra"));
            assertNotEquals(0, export.exit(), "other/extra is refused: " + export.describe());

            assertArrayEquals(damaged, Files.readAllBytes(log), "the damaged file is left as it was");
            assertEquals(1, serve.log().lines().filter(l -> l.contains("set other is offline: ")).count(),
                    "the daemon's log says it once:\n" + serve.log());

            flipByte(log, TRANSACTION_LOG_UUID_BYTE); // repaired
            serve.ok("set", "reopen", "other");
            assertEquals("online", byName(serve.json("status", "--json").get("sets"), "other").get("state").asText());
            Tools.run(TOOL_TIMEOUT, nbdinfo, serve.uri("other/extra")).assertOk();
        }
    }

    private static JsonNode byName(JsonNode sets, String name) {
        for (JsonNode s : sets) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no set " + name + " in " + sets);
    }

    private static void flipByte(Path file, long offset) throws Exception {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            assertEquals(1, c.read(one, offset));
            one.put(0, (byte) (one.get(0) ^ 0x5A)).flip();
            c.write(one, offset);
        }
    }
}
