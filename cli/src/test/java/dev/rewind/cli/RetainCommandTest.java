package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.seed.Seeds;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code rewind set update --keep RULES} and {@code rewind retain}, as a DBA uses them: five
 * simulated hours of writes cut every five minutes, two bookmarks, then a dry run (nothing
 * changes), a pass (points go, space is freed, merged transactions show in the log, the old
 * bookmark shows as gone and is refused with the nearest points), and every point on hand after
 * it reads as it was written. Bad rules are refused as usage errors with the settings unchanged.
 */
class RetainCommandTest {
    private static final String[] MEMBERS = {"data", "log"};
    private static final int SPAN = 1 << 20; // writes fall in the first MiB of each member

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x2323_0001L, 1);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void retainFadesOutWhatTheRulesNoLongerKeepAndEveryKeptPointReadsAsWritten(long seed) throws Exception {
        Random r = new Random(seed);
        String what = Seeds.describe(seed);
        MovingClock clock = MovingClock.at(Instant.parse("2030-05-01T00:00:00Z"));
        CliHarness cli = new CliHarness(tmp);
        cli.clock = clock;
        cli.createShop();
        JsonNode settings = cli.ok("set", "update", "shop", "--keep", "every-write:10m,transactions:30m,hourly:2h,bookmarks:1h",
                "--json").json();
        assertEquals("every-write:10m,transactions:30m,hourly:2h,bookmarks:1h", settings.get("keep").asText(), what);
        Map<Long, String> hashes = new HashMap<>(); // boundary seq -> hash of both members' first MiB
        try (DataDir d = cli.dataDir(); CapturedSet set = d.openSet("shop")) {
            hashes.put(0L, hash(set));
        }
        for (int minute = 5; minute <= 300; minute += 5) {
            clock.advance(Duration.ofMinutes(5));
            try (DataDir d = cli.dataDir(); CapturedSet set = d.openSet("shop")) {
                for (int i = 0, n = 1 + r.nextInt(5); i < n; i++) {
                    byte[] data = new byte[512 * (1 + r.nextInt(64))];
                    r.nextBytes(data);
                    set.device(MEMBERS[r.nextInt(2)]).write(512L * r.nextInt((SPAN - data.length) / 512), ByteBuffer.wrap(data), false);
                }
                set.cut(CutReason.DEMAND).orElseThrow();
                hashes.put(set.lastSeq(), hash(set));
            }
            if (minute == 30) {
                cli.ok("bookmark", "shop", "early");
            } else if (minute == 270) {
                cli.ok("bookmark", "shop", "late");
            }
        }
        JsonNode before = cli.ok("log", "shop", "--transactions", "--json").json();
        int transactionsBefore = before.get("transactions").size();

        JsonNode dry = cli.ok("retain", "shop", "--dry-run", "--json").json();
        assertTrue(dry.get("pointsGoing").asInt() > 0 && dry.get("merges").asInt() > 0, what + ": " + dry);
        assertEquals("early", dry.get("bookmarksGoing").get(0).get("name").asText(), what + ": the bookmark older than 1h goes: " + dry);
        assertEquals(transactionsBefore, cli.ok("log", "shop", "--transactions", "--json").json().get("transactions").size(),
                what + ": a dry run changes nothing");
        String text = cli.ok("retain", "shop", "--dry-run").out();
        assertTrue(text.contains("hourly:2h") && text.contains("bookmark early") && text.contains("dry run: nothing changed"), text);

        JsonNode pass = cli.ok("retain", "shop", "--json").json();
        assertEquals(dry.get("pointsGoing").asInt(), pass.get("pointsGoing").asInt(), what);
        assertTrue(pass.get("bytesFreed").asLong() > 0, what + ": " + pass);
        assertTrue(pass.get("transactionsAfter").asInt() < transactionsBefore, what + ": " + pass);
        JsonNode log = cli.ok("log", "shop", "--transactions", "--json").json();
        assertEquals(pass.get("transactionsAfter").asInt(), log.get("transactions").size(), what + ": the log lists the history after the pass");
        boolean anyMerged = false;
        for (JsonNode t : log.get("transactions")) {
            anyMerged |= t.get("merged").asInt() > 1;
        }
        assertTrue(anyMerged, what + ": merged transactions are marked: " + log);
        assertTrue(cli.ok("log", "shop", "--transactions").out().contains(" merged"), what);
        JsonNode again = cli.ok("retain", "shop", "--json").json();
        assertEquals(0, again.get("pointsGoing").asInt(), what + ": a second pass at the same time finds nothing: " + again);

        JsonNode status = cli.ok("status", "shop", "--json").json().get("sets").get(0).get("retention");
        assertEquals("every-write:10m,transactions:30m,hourly:2h,bookmarks:1h", status.get("keep").asText(), what);
        assertTrue(status.get("rules").toString().contains("hourly:2h"), what + ": " + status);
        JsonNode bookmarks = cli.ok("bookmark", "list", "shop", "--json").json();
        assertTrue(bookmarks.toString().contains("gone"), what + ": the faded bookmark shows as gone: " + bookmarks);
        cli.refused("is older than the history on hand", "restore", "shop", "--to-bookmark", "early", "--dry-run");

        // a size limit: the oldest points the rules keep go until the secondary fits, and then it warns when nothing more may go
        JsonNode usage = cli.ok("status", "shop", "--json").json().get("sets").get(0);
        long secondary = usage.get("journalBytes").asLong() + usage.get("incrementBytes").asLong() + usage.get("replicaBytes").asLong()
                + usage.get("deltaMapBytes").asLong();
        long oldestBefore = usage.get("oldestSeq").asLong();
        cli.ok("set", "update", "shop", "--max-size", Long.toString(secondary - 1));
        JsonNode sized = cli.ok("retain", "shop", "--json").json();
        assertTrue(sized.get("goneForSize").size() > 0 && sized.get("goneForSize").get(0).asLong() == oldestBefore,
                what + ": the oldest point goes first to fit: " + sized);
        assertEquals(0, sized.get("overMaxSizeBytes").asLong(), what + ": " + sized);
        cli.ok("set", "update", "shop", "--max-size", "1K");
        JsonNode over = cli.ok("retain", "shop", "--json").json();
        assertTrue(over.get("overMaxSizeBytes").asLong() > 0, what + ": nothing more may go: " + over);
        assertTrue(cli.ok("status", "shop").out().contains("OVER ITS SIZE LIMIT"), what);
        assertTrue(cli.ok("status", "shop", "--json").json().get("sets").get(0).get("retention").get("overMaxSizeBytes").asLong() > 0, what);
        cli.ok("set", "update", "shop", "--max-size", "off");
        log = cli.ok("log", "shop", "--transactions", "--json").json();

        // every point on hand reads as it was written, through a past view
        try (DataDir d = cli.dataDir(); CapturedSet set = d.openSet("shop")) {
            for (JsonNode t : log.get("transactions")) {
                long seq = t.get("lastSeq").asLong();
                byte[] expected = hashes.get(seq).getBytes();
                assertArrayEquals(expected, hashAt(set, seq).getBytes(), what + ": seq " + seq + " after retention");
            }
            long oldest = set.oldestSeq();
            assertArrayEquals(hashes.get(oldest).getBytes(), hashAt(set, oldest).getBytes(), what + ": the oldest point " + oldest);
        }
    }

    @Test
    void badRulesAreUsageErrorsAndChangeNothing(@TempDir Path dir) throws Exception {
        CliHarness cli = new CliHarness(dir);
        cli.createShop();
        cli.ok("set", "update", "shop", "--keep", "every-write:1h,daily:30d");
        cli.usage("keeps every write forever, so its other rules never act", "set", "update", "shop", "--keep", "hourly:7d");
        cli.usage("'fortnightly' is not a retention rule", "set", "update", "shop", "--keep", "every-write:1h,fortnightly:1d");
        cli.usage("hourly:soon does not give a duration", "set", "update", "shop", "--keep", "every-write:1h,hourly:soon");
        cli.usage("daily is given twice", "set", "update", "shop", "--keep", "every-write:1h,daily:1d,daily:2d");
        cli.usage("--max-size 'lots'", "set", "update", "shop", "--max-size", "lots");
        JsonNode s = cli.ok("status", "shop", "--json").json().get("sets").get(0).get("retention");
        assertEquals("every-write:1h,daily:30d", s.get("keep").asText(), "the settings are as before: " + s);
        String text = cli.ok("retain", "shop", "--dry-run").out();
        assertTrue(text.contains("nothing to fade out"), text);
        cli.ok("set", "update", "shop", "--keep", "all");
        assertTrue(cli.ok("retain", "shop").out().contains("give rules after every-write"), "keep all fades nothing out");
    }

    private static String hash(CapturedSet set) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (String m : MEMBERS) {
            ByteBuffer b = ByteBuffer.allocate(SPAN);
            set.device(m).read(0, b);
            md.update(b.array());
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    private static String hashAt(CapturedSet set, long seq) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (int m = 0; m < MEMBERS.length; m++) {
            ByteBuffer b = ByteBuffer.allocate(SPAN);
            set.readAt(seq, m, 0, b);
            md.update(b.array());
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }
}
