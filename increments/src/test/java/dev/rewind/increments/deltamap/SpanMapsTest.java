package dev.rewind.increments.deltamap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Merged delta maps against a model: random transactions each change random blocks; for any
 * range of transactions, every block must be claimed by the oldest transaction of the range
 * that changed it (and no other block claimed), whether the spans on the way are built at
 * commit, built at read, read back from disk after a reopen, or rebuilt after transactions
 * that never committed were replaced.
 */
class SpanMapsTest {
    private static final int MEMBERS = 2;
    private static final int BLOCKS = 96;
    private static final int BLOCK = 512;

    @TempDir
    Path dir;

    static LongStream seeds() {
        return Seeds.range(0x5BA7_0001L, 25);
    }

    /** Per transaction id (index id - 1), per member, the blocks it changed. */
    private final List<boolean[][]> changed = new ArrayList<>();

    private SpanMaps open(int fanout) throws IOException {
        return new SpanMaps(dir.resolve("maps"), fanout, MEMBERS, (id, consumer) -> {
            boolean[][] blocks = changed.get((int) id - 1);
            for (int m = 0; m < MEMBERS; m++) {
                for (int b = 0; b < BLOCKS; b++) { // runs of changed blocks, as increments store them
                    if (blocks[m][b]) {
                        int end = b;
                        while (end < BLOCKS && blocks[m][end]) {
                            end++;
                        }
                        consumer.accept(m, (long) b * BLOCK, (long) end * BLOCK);
                        b = end;
                    }
                }
            }
        });
    }

    private boolean[][] randomTransaction(Random r) {
        boolean[][] blocks = new boolean[MEMBERS][BLOCKS];
        int writes = 1 + r.nextInt(6);
        for (int i = 0; i < writes; i++) {
            int m = r.nextInt(MEMBERS);
            int start = r.nextInt(BLOCKS);
            int length = 1 + r.nextInt(r.nextBoolean() ? 3 : 20);
            for (int b = start; b < Math.min(BLOCKS, start + length); b++) {
                blocks[m][b] = true;
            }
        }
        return blocks;
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void everyBlockIsClaimedByTheOldestTransactionThatChangedIt(long seed) throws IOException {
        Random r = new Random(seed);
        int fanout = 2 + r.nextInt(4);
        SpanMaps spans = open(fanout);
        int total = 40 + r.nextInt(120);
        for (int step = 0; step < total; step++) {
            changed.add(randomTransaction(r));
            long id = changed.size();
            if (r.nextInt(4) > 0) {
                spans.transactionCommitted(id); // else the span is built when a read needs it
            }
            if (r.nextInt(10) == 0) {
                spans = open(fanout); // a reopen: spans come from disk
            }
            if (r.nextInt(15) == 0 && id > 3) { // cuts that never committed: later ids are reused with other blocks
                int keep = (int) id - 1 - r.nextInt(3);
                spans.removeFrom(keep + 1);
                while (changed.size() > keep) {
                    changed.remove(changed.size() - 1);
                }
                continue;
            }
            for (int check = 0; check < 3; check++) {
                long first = 1 + r.nextInt((int) id);
                long last = first + r.nextInt((int) (id - first + 1));
                assertClaims(spans, first, last, Seeds.describe(seed) + ", fanout " + fanout + ", transactions " + first + ".." + last);
            }
        }
        if (changed.size() >= fanout) {
            assertTrue(spans.verify() > 0, Seeds.describe(seed) + ": no span was written");
        }
    }

    private void assertClaims(SpanMaps spans, long first, long last, String what) throws IOException {
        WriteMap map = new WriteMap(MEMBERS);
        spans.claimOldestFirst(map, first, last);
        for (int m = 0; m < MEMBERS; m++) {
            for (int b = 0; b < BLOCKS; b++) {
                long expected = 0;
                for (long id = first; id <= last; id++) {
                    if (changed.get((int) id - 1)[m][b]) {
                        expected = -id;
                        break;
                    }
                }
                var e = map.extents(m).floorEntry((long) b * BLOCK);
                long actual = e == null || e.getValue().endBytes() <= (long) b * BLOCK ? 0 : e.getValue().source();
                assertEquals(expected, actual, what + ": member " + m + " block " + b);
            }
        }
    }

    @Test
    void planUsesTheLargestAlignedSpans() {
        SpanMaps spans = assertDoesNotThrowOpen(4);
        List<SpanMaps.Piece> plan = spans.plan(3, 70);
        // 3, 4 alone; 5..8 and 9..12 and 13..16 at level 1; 17..32, 33..48, 49..64 at level 2; 65..68 at 1; 69, 70 alone
        assertEquals(List.of(new SpanMaps.Piece(0, 3, 3), new SpanMaps.Piece(0, 4, 4), new SpanMaps.Piece(1, 5, 8),
                new SpanMaps.Piece(1, 9, 12), new SpanMaps.Piece(1, 13, 16), new SpanMaps.Piece(2, 17, 32), new SpanMaps.Piece(2, 33, 48),
                new SpanMaps.Piece(2, 49, 64), new SpanMaps.Piece(1, 65, 68), new SpanMaps.Piece(0, 69, 69), new SpanMaps.Piece(0, 70, 70)),
                plan);
        // with the default fanout, 10,000 transactions are 2 spans of 4,096, 28 of 64 and 16 single ones
        assertEquals(2 + 28 + 16, assertDoesNotThrowOpen(SpanMaps.DEFAULT_FANOUT).plan(1, 10_000).size());
    }

    private SpanMaps assertDoesNotThrowOpen(int fanout) {
        try {
            return open(fanout);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aFlippedByteInASpanIsNamedByReadsAndVerifyAndNothingIsRebuiltOverIt() throws IOException {
        Random r = new Random(7);
        SpanMaps spans = open(2);
        for (int i = 0; i < 8; i++) {
            changed.add(randomTransaction(r));
            spans.transactionCommitted(changed.size());
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(spans.dir())) {
            files = s.sorted().toList();
        }
        assertEquals(7, files.size(), "spans of 2, 4 and 8 transactions: " + files);
        for (int at : new int[] {0, 13, 20, 44, 50, 60}) {
            Path file = files.get(at % files.size());
            byte[] good = Files.readAllBytes(file);
            byte[] bad = good.clone();
            int offset = Math.min(at, bad.length - 1);
            bad[offset] ^= 0x10;
            Files.write(file, bad);
            SpanMaps reopened = open(2);
            String name = file.getFileName().toString();
            long first = Long.parseLong(name.substring(0, 16));
            long last = Long.parseLong(name.substring(17, 33));
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> reopened.claimOldestFirst(new WriteMap(MEMBERS), first, last),
                    "flipped byte " + offset + " of " + file);
            assertEquals(file, e.file());
            assertThrows(CorruptDataException.class, reopened::verify);
            assertTrue(java.util.Arrays.equals(bad, Files.readAllBytes(file)), "the damaged span is left as it was for inspection");
            Files.write(file, good);
        }
        assertEquals(7, open(2).verify());
    }
}
