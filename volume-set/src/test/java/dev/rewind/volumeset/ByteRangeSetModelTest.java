package dev.rewind.volumeset;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rewind.testfixtures.seed.Seeds;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random add / remove / intersects / intersection against a {@code boolean[]} model.
 * Replay one seed with {@code -Drewind.seed=N}.
 */
class ByteRangeSetModelTest {
    private static final int SPACE = 4096;
    private static final int OPERATIONS = 400;

    static LongStream seeds() {
        return Seeds.range(0x5EED0000L, 50);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void randomOperationsMatchABooleanModel(long seed) {
        Random random = new Random(seed);
        boolean[] model = new boolean[SPACE];
        ByteRangeSet set = new ByteRangeSet();
        for (int op = 0; op < OPERATIONS; op++) {
            int start = random.nextBoolean() ? random.nextInt(SPACE + 1) : nearABoundary(set, random);
            // mostly short ranges, sometimes long ones, sometimes empty or reversed ones
            int length = switch (random.nextInt(8)) {
                case 0 -> 0;
                case 1 -> -random.nextInt(16);
                case 2 -> random.nextInt(SPACE);
                default -> 1 + random.nextInt(64);
            };
            int end = Math.min(SPACE, start + length);
            String where = Seeds.describe(seed) + ", op " + op;
            switch (random.nextInt(5)) {
                case 0, 1 -> {
                    set.add(start, end);
                    for (int i = start; i < end; i++) {
                        model[i] = true;
                    }
                }
                case 2 -> {
                    set.remove(start, end);
                    for (int i = start; i < end; i++) {
                        model[i] = false;
                    }
                }
                case 3 -> assertEquals(modelIntersects(model, start, end), set.intersects(start, end),
                        where + ": intersects(" + start + ", " + end + ") on " + set);
                default -> assertEquals(modelRuns(model, start, end), set.intersection(start, end),
                        where + ": intersection(" + start + ", " + end + ") on " + set);
            }
            assertCanonical(model, set, where);
        }
        ByteRangeSet copy = set.copy();
        set.add(0, SPACE);
        assertEquals(modelRuns(model, 0, SPACE), list(copy), "seed " + seed + ": copy is independent of the original");
    }

    /** The set holds exactly the model's maximal runs: merged, sorted, no empty or touching ranges. */
    private static void assertCanonical(boolean[] model, ByteRangeSet set, String where) {
        List<ByteRangeSet.Range> expected = modelRuns(model, 0, SPACE);
        assertEquals(expected, list(set), where + ": contents");
        assertEquals(expected.size(), set.rangeCount(), where + ": rangeCount");
        long total = 0;
        for (boolean b : model) {
            total += b ? 1 : 0;
        }
        assertEquals(total, set.totalBytes(), where + ": totalBytes");
        assertEquals(total == 0, set.isEmpty(), where + ": isEmpty");
    }

    /** A start or end of a range in the set, give or take one: where off-by-one mistakes live. */
    private static int nearABoundary(ByteRangeSet set, Random random) {
        List<ByteRangeSet.Range> ranges = list(set);
        if (ranges.isEmpty()) {
            return random.nextInt(SPACE + 1);
        }
        ByteRangeSet.Range r = ranges.get(random.nextInt(ranges.size()));
        long boundary = random.nextBoolean() ? r.startBytes() : r.endBytes();
        return (int) Math.max(0, Math.min(SPACE, boundary + random.nextInt(3) - 1));
    }

    private static List<ByteRangeSet.Range> list(ByteRangeSet set) {
        List<ByteRangeSet.Range> out = new ArrayList<>();
        set.forEach(out::add);
        return out;
    }

    private static boolean modelIntersects(boolean[] model, int start, int end) {
        for (int i = start; i < end; i++) {
            if (model[i]) {
                return true;
            }
        }
        return false;
    }

    private static List<ByteRangeSet.Range> modelRuns(boolean[] model, int start, int end) {
        List<ByteRangeSet.Range> runs = new ArrayList<>();
        int i = start;
        while (i < end) {
            if (!model[i]) {
                i++;
                continue;
            }
            int s = i;
            while (i < end && model[i]) {
                i++;
            }
            runs.add(new ByteRangeSet.Range(s, i));
        }
        return runs;
    }
}
