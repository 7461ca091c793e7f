package dev.rewind.dbadapters.bisect;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongPredicate;

/**
 * The search for the last write at which a check holds, between a seq where it holds
 * ({@code good}) and a later one where it fails ({@code bad}); seed 004, claims 16-17.
 *
 * <ol>
 *   <li>Both ends are probed first. The check must hold at {@code good} and fail at
 *       {@code bad}; otherwise the result says what it did at each and nothing is guessed.</li>
 *   <li>Whole transactions: binary search over the transaction boundaries (each transaction's
 *       last seq) strictly between the ends, down to two neighbouring points, the last good
 *       and the first bad: the estimated transaction.</li>
 *   <li>Write by write inside it: binary search over the single writes between those two
 *       points, down to the exact write.</li>
 * </ol>
 * With k boundaries between the ends and n writes in the transaction found, that is at most
 * {@code 2 + ceil(log2(k + 1)) + ceil(log2(n + 1))} probes. Every verdict is kept; one that
 * contradicts an earlier one (good after bad) is reported as a warning, and the search still
 * ends. No I/O here: what a probe does is the {@link Probe}'s.
 */
public final class Bisect {
    private final long[] boundaries;
    private final Clock clock;
    private final LongPredicate isPlaceable;

    /** {@code boundaries}: the seqs that end a transaction, in any order. */
    public Bisect(long[] boundaries, Clock clock) {
        this(boundaries, clock, seq -> true);
    }

    /**
     * {@code isPlaceable}: whether a seq may be probed at all; a seq inside the writes of a
     * restore in place is not (no one wrote the state there). Boundaries that are not placeable
     * are left out, and the write-by-write search stops at the transaction when it meets one:
     * the check turned bad in a restore, and its boundaries are the answer.
     */
    public Bisect(long[] boundaries, Clock clock, LongPredicate isPlaceable) {
        this.boundaries = Arrays.stream(boundaries).filter(isPlaceable).sorted().distinct().toArray();
        this.clock = clock;
        this.isPlaceable = isPlaceable;
    }

    /** Runs the search; an exception from the probe ends it and is passed on. */
    public BisectResult run(long good, long bad, Probe probe, BisectListener listener) throws IOException {
        if (good < 0) {
            throw new RewindException("--good must be seq 0 or later, got " + good);
        }
        if (good >= bad) {
            throw new RewindException("--good (seq " + good + ") must be before --bad (seq " + bad + ")");
        }
        return new Run(good, bad, probe, listener).search();
    }

    private boolean isBoundary(long seq) {
        return Arrays.binarySearch(boundaries, seq) >= 0;
    }

    /** One search: its steps and every verdict so far. */
    private final class Run {
        private final long good;
        private final long bad;
        private final Probe probe;
        private final BisectListener listener;
        private final List<BisectStep> steps = new ArrayList<>();
        private final TreeMap<Long, Verdict> verdicts = new TreeMap<>();
        private final List<String> warnings = new ArrayList<>();

        Run(long good, long bad, Probe probe, BisectListener listener) {
            this.good = good;
            this.bad = bad;
            this.probe = probe;
            this.listener = listener;
        }

        BisectResult search() throws IOException {
            boolean holdsAtGood = probe(good, true).isGood();
            boolean holdsAtBad = probe(bad, true).isGood();
            if (!holdsAtGood || holdsAtBad) {
                BisectResult.Outcome outcome = holdsAtGood ? BisectResult.Outcome.HOLDS_AT_BOTH
                        : holdsAtBad ? BisectResult.Outcome.FAILS_AT_GOOD_HOLDS_AT_BAD : BisectResult.Outcome.FAILS_AT_BOTH;
                return new BisectResult(outcome, good, bad, -1, -1, -1, steps, warnings);
            }
            long[] points = boundaryPoints();
            int lo = 0;
            int hi = points.length - 1;
            while (hi - lo > 1) {
                int mid = (lo + hi) >>> 1;
                if (probe(points[mid], false).isGood()) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            long lastGood = points[lo];
            long firstBad = points[hi];
            while (firstBad - lastGood > 1) {
                long mid = lastGood + (firstBad - lastGood) / 2;
                if (!isPlaceable.test(mid)) {
                    break; // inside a restore's writes: the transaction found is the restore
                }
                if (probe(mid, false).isGood()) {
                    lastGood = mid;
                } else {
                    firstBad = mid;
                }
            }
            return new BisectResult(BisectResult.Outcome.FOUND, good, bad, lastGood, points[lo], points[hi], steps, warnings);
        }

        /** good, the boundaries strictly between the ends, bad. */
        private long[] boundaryPoints() {
            long[] between = Arrays.stream(boundaries).filter(b -> b > good && b < bad).toArray();
            long[] points = new long[between.length + 2];
            points[0] = good;
            System.arraycopy(between, 0, points, 1, between.length);
            points[points.length - 1] = bad;
            return points;
        }

        private Verdict probe(long seq, boolean isEnd) throws IOException {
            Instant start = clock.instant();
            Verdict verdict = probe.at(seq);
            BisectStep step = new BisectStep(steps.size() + 1, seq, isBoundary(seq), isEnd, verdict,
                    Duration.between(start, clock.instant()));
            noticeContradiction(seq, verdict);
            verdicts.put(seq, verdict);
            steps.add(step);
            listener.stepDone(step);
            return verdict;
        }

        /** Good after bad: a good verdict above a bad one, or a bad one below a good one. */
        private void noticeContradiction(long seq, Verdict verdict) {
            Map.Entry<Long, Verdict> other = verdict.isGood()
                    ? verdicts.headMap(seq, false).entrySet().stream().filter(e -> !e.getValue().isGood()).findFirst().orElse(null)
                    : verdicts.tailMap(seq, false).entrySet().stream().filter(e -> e.getValue().isGood())
                            .reduce((a, b) -> b).orElse(null);
            if (other == null) {
                return;
            }
            long goodAt = verdict.isGood() ? seq : other.getKey();
            long badAt = verdict.isGood() ? other.getKey() : seq;
            warnings.add("the check fails at seq " + badAt + " but holds again at the later seq " + goodAt
                    + ": it does not turn bad once and stay bad, so the write found is one place where it turns bad, maybe not the only one");
        }
    }
}
