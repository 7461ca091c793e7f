package dev.rewind.dbadapters.bisect;

import java.util.List;

/**
 * How a bisect between {@code goodSeq} and {@code badSeq} ended. When the check held at
 * {@code goodSeq} and failed at {@code badSeq} ({@link Outcome#FOUND}), {@code lastGoodSeq} is
 * the last write at which it holds and {@code lastGoodSeq + 1} the first at which it fails;
 * {@code boundaryBefore}..{@code boundaryAfter} are the transaction boundaries (or ends) the
 * first phase narrowed it to. Otherwise the three are -1 and {@link #message()} says what the
 * check did at the two ends instead of guessing.
 *
 * @param warnings answers seen that do not fit a check that holds up to one write and fails
 *                 after it (good after bad): the search still ended, at one place where the
 *                 check turns bad
 */
public record BisectResult(Outcome outcome, long goodSeq, long badSeq, long lastGoodSeq, long boundaryBefore, long boundaryAfter,
                           List<BisectStep> steps, List<String> warnings) {

    /** What the search found. */
    public enum Outcome {
        /** The check holds at --good and fails at --bad: the last good write is found. */
        FOUND,
        /** The check holds at both ends. */
        HOLDS_AT_BOTH,
        /** The check fails at both ends. */
        FAILS_AT_BOTH,
        /** The check fails at --good and holds at --bad. */
        FAILS_AT_GOOD_HOLDS_AT_BAD
    }

    public BisectResult {
        steps = List.copyOf(steps);
        warnings = List.copyOf(warnings);
    }

    public boolean isFound() {
        return outcome == Outcome.FOUND;
    }

    /** The first write at which the check fails, or -1 when none was found. */
    public long firstBadSeq() {
        return isFound() ? lastGoodSeq + 1 : -1;
    }

    /** One line saying what the bisect found, or what the check did at the ends. */
    public String message() {
        return switch (outcome) {
            case FOUND -> "last good write: seq " + lastGoodSeq + " (first bad: seq " + firstBadSeq() + ")";
            case HOLDS_AT_BOTH -> "the check holds at --good (seq " + goodSeq + ") and also at --bad (seq " + badSeq
                    + "): nothing between them made it fail; give a later --bad or a check that fails there";
            case FAILS_AT_BOTH -> "the check fails at --bad (seq " + badSeq + ") and already at --good (seq " + goodSeq + ": "
                    + endVerdict(goodSeq).detail() + "): give an earlier --good or a check that holds there";
            case FAILS_AT_GOOD_HOLDS_AT_BAD -> "the check fails at --good (seq " + goodSeq + ": " + endVerdict(goodSeq).detail()
                    + ") but holds at --bad (seq " + badSeq + "): swap them, or give a check that holds before the damage and fails after it";
        };
    }

    private Verdict endVerdict(long seq) {
        return steps.stream().filter(s -> s.isEnd() && s.seq() == seq).findFirst().map(BisectStep::verdict)
                .orElse(Verdict.bad("not probed"));
    }
}
