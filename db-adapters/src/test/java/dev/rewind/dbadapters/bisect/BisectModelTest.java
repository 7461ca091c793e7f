package dev.rewind.dbadapters.bisect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.seed.Seeds;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test of the search: a seeded random history (writes cut into transactions of
 * random sizes), random ends, and a check that holds up to a random write. The bisect must name
 * exactly that write, probe only seqs between the ends and none twice, and take at most
 * {@code 2 + ceil(log2(boundaries between + 1)) + ceil(log2(writes of the transaction + 1))}
 * steps. With random checks that turn bad several times, a found write is a real flip.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=2000}.
 */
class BisectModelTest {
    static LongStream seeds() {
        return Seeds.range(0xB15EC7_0001L, 300);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void bisectNamesTheExactThresholdWithinTheStepBound(long seed) throws IOException {
        Random r = new Random(seed);
        long[] boundaries = randomBoundaries(r);
        long lastSeq = boundaries[boundaries.length - 1];
        long good = r.nextInt((int) lastSeq);
        long bad = good + 1 + r.nextInt((int) (lastSeq - good));
        long threshold = good + r.nextInt((int) (bad - good));
        String at = Seeds.describe(seed) + ", good " + good + ", bad " + bad + ", threshold " + threshold;

        List<BisectStep> told = new ArrayList<>();
        Set<Long> probed = new HashSet<>();
        Probe probe = seq -> {
            assertTrue(seq >= good && seq <= bad, at + ": probed " + seq + " outside the ends");
            assertTrue(probed.add(seq), at + ": probed " + seq + " twice");
            return seq <= threshold ? Verdict.good("returned true") : Verdict.bad("fails");
        };
        BisectResult result = new Bisect(boundaries, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC)).run(good, bad, probe, told::add);

        assertTrue(result.isFound(), at);
        assertEquals(threshold, result.lastGoodSeq(), at);
        assertEquals(threshold + 1, result.firstBadSeq(), at);
        assertTrue(result.warnings().isEmpty(), at + ": " + result.warnings());
        assertEquals(result.steps(), told, at);
        long between = LongStream.of(boundaries).filter(b -> b > good && b < bad).count();
        long writes = writesOfTransactionHolding(boundaries, threshold + 1);
        int bound = 2 + ceilLog2(between + 1) + ceilLog2(writes + 1);
        assertTrue(result.steps().size() <= bound, at + ": " + result.steps().size() + " steps, bound " + bound
                + " (" + between + " boundaries between, " + writes + " writes in the transaction)");
        assertTrue(result.boundaryBefore() <= threshold && threshold < result.boundaryAfter(), at);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void anyCheckEndsWithAFlipOrSaysWhatItDidAtTheEnds(long seed) throws IOException {
        Random r = new Random(seed);
        long[] boundaries = randomBoundaries(r);
        long lastSeq = boundaries[boundaries.length - 1];
        boolean[] holds = new boolean[(int) lastSeq + 1];
        boolean now = r.nextBoolean();
        for (int s = 0; s <= lastSeq; s++) {
            if (r.nextInt(40) == 0) {
                now = !now;
            }
            holds[s] = now;
        }
        long good = r.nextInt((int) lastSeq);
        long bad = good + 1 + r.nextInt((int) (lastSeq - good));
        String at = Seeds.describe(seed) + ", good " + good + ", bad " + bad;

        BisectResult result = new Bisect(boundaries, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC))
                .run(good, bad, seq -> holds[(int) seq] ? Verdict.good("returned true") : Verdict.bad("fails"), BisectListener.NONE);

        BisectResult.Outcome expected = holds[(int) good]
                ? holds[(int) bad] ? BisectResult.Outcome.HOLDS_AT_BOTH : BisectResult.Outcome.FOUND
                : holds[(int) bad] ? BisectResult.Outcome.FAILS_AT_GOOD_HOLDS_AT_BAD : BisectResult.Outcome.FAILS_AT_BOTH;
        assertEquals(expected, result.outcome(), at);
        if (result.isFound()) {
            assertTrue(holds[(int) result.lastGoodSeq()] && !holds[(int) result.firstBadSeq()], at + ": not a flip at " + result.lastGoodSeq());
        } else {
            assertEquals(2, result.steps().size(), at + ": only the ends are probed");
        }
        assertEquals(expected == BisectResult.Outcome.FAILS_AT_GOOD_HOLDS_AT_BAD ? 1 : 0, result.warnings().size(), at);
    }

    /** Transactions of 1 to a few hundred writes, a few to a few hundred of them. */
    private static long[] randomBoundaries(Random r) {
        int transactions = 1 + r.nextInt(r.nextBoolean() ? 8 : 300);
        int maxWrites = 1 + r.nextInt(r.nextBoolean() ? 5 : 400);
        long[] boundaries = new long[transactions];
        long seq = 0;
        for (int i = 0; i < transactions; i++) {
            seq += 1 + r.nextInt(maxWrites);
            boundaries[i] = seq;
        }
        if (seq < 2) {
            return new long[] {2};
        }
        return boundaries;
    }

    private static long writesOfTransactionHolding(long[] boundaries, long seq) {
        long previous = 0;
        for (long b : boundaries) {
            if (seq <= b) {
                return b - previous;
            }
            previous = b;
        }
        return seq - previous;
    }

    private static int ceilLog2(long n) {
        return n <= 1 ? 0 : 64 - Long.numberOfLeadingZeros(n - 1);
    }
}
