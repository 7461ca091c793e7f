package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.volumeset.ByteRangeSet;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code rewind diff} against a model: random writes to both members, cut into more
 * transactions than one merged delta map spans; for random pairs of points, the ranges listed
 * are exactly the union of what the writes after the first up to the second covered.
 */
class DiffCommandTest {
    private static final String[] MEMBERS = {"data", "log"};
    private static final long[] SIZES = {18L << 20, 2L << 20};

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0xD1FF_0001L, 3);
    }

    /** One write: its member, offset and length. */
    private record Write(int member, long offset, int length) {
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void theRangesListedAreWhatTheWritesBetweenTheTwoPointsCovered(long seed) throws Exception {
        Random r = new Random(seed);
        CliHarness cli = new CliHarness(tmp);
        cli.createShop();
        List<Write> writes = new ArrayList<>(); // index = seq - 1
        try (DataDir d = cli.dataDir(); CapturedSet set = d.openSet("shop")) {
            int transactions = 140 + r.nextInt(40); // more than two spans of 64
            for (int t = 0; t < transactions; t++) {
                int n = 1 + r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    int member = r.nextInt(10) < 8 ? 0 : 1;
                    int length = 512 * (1 + r.nextInt(r.nextBoolean() ? 2 : 24));
                    long offset = 512L * r.nextInt((int) ((r.nextBoolean() ? 1L << 20 : SIZES[member]) / 512 - length / 512));
                    byte[] data = new byte[length];
                    r.nextBytes(data);
                    set.device(MEMBERS[member]).write(offset, ByteBuffer.wrap(data), false);
                    writes.add(new Write(member, offset, length));
                }
                if (r.nextInt(8) > 0) {
                    set.cut(CutReason.DEMAND);
                }
            }
            set.flush();
        }
        for (int check = 0; check < 8; check++) {
            long a = r.nextInt(writes.size() + 1);
            long b = a + r.nextInt((int) (writes.size() - a + 1));
            List<String> args = new ArrayList<>(List.of("diff", "shop", "--from", Long.toString(a), "--json"));
            if (b < writes.size() || r.nextBoolean()) {
                args.addAll(List.of("--to", Long.toString(b)));
            }
            JsonNode diff = cli.ok(args.toArray(String[]::new)).json();
            for (int m = 0; m < MEMBERS.length; m++) {
                ByteRangeSet expected = new ByteRangeSet();
                for (long seq = a + 1; seq <= b; seq++) {
                    Write w = writes.get((int) seq - 1);
                    if (w.member() == m) {
                        expected.add(w.offset(), w.offset() + w.length());
                    }
                }
                ByteRangeSet listed = new ByteRangeSet();
                JsonNode member = diff.get("members").get(m);
                assertEquals(MEMBERS[m], member.get("member").asText());
                for (JsonNode range : member.get("ranges")) {
                    listed.add(range.get("offset").asLong(), range.get("offset").asLong() + range.get("length").asLong());
                }
                assertEquals(expected.toString(), listed.toString(), Seeds.describe(seed) + ": diff --from " + a + " --to " + b + ", member "
                        + MEMBERS[m]);
                assertEquals(expected.totalBytes(), member.get("bytes").asLong());
            }
        }
    }

    @Test
    void badPointsAreRefusedWithOneLine(@TempDir Path dir) throws Exception {
        CliHarness cli = new CliHarness(dir);
        cli.createShop();
        try (DataDir d = cli.dataDir(); CapturedSet set = d.openSet("shop")) {
            set.device("data").write(0, ByteBuffer.wrap(new byte[512]), true);
            set.device("data").write(4096, ByteBuffer.wrap(new byte[512]), true);
        }
        cli.usage("--from 2 (seq 2) is after --to 1 (seq 1)", "diff", "shop", "--from", "2", "--to", "1");
        cli.usage("--limit -1 is negative", "diff", "shop", "--from", "0", "--limit", "-1");
        cli.refused("beyond the newest write", "diff", "shop", "--from", "0", "--to", "9");
        cli.refused("no bookmark named nope", "diff", "shop", "--from", "bookmark:nope");
        String text = cli.ok("diff", "shop", "--from", "0", "--limit", "1").out();
        assertTrue(text.contains("data: 2 range(s), 1 KiB") && text.contains("... 1 more"), text);
    }
}
