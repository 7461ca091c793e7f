package dev.rewind.dbadapters.bisect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The search on hand-made histories: the order of probes, the two phases, the ends, and errors. */
class BisectTest {
    /** Transactions 1..10, 11..20, ..., 91..100. */
    private static final long[] TEN_BY_TEN = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};

    private final List<BisectStep> told = new ArrayList<>();

    private static Probe holdsThrough(long lastGood) {
        return seq -> seq <= lastGood ? Verdict.good("returned true") : Verdict.bad("relation \"t\" does not exist");
    }

    private static Bisect bisect(long[] boundaries) {
        return new Bisect(boundaries, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));
    }

    @Test
    void findsTheExactWriteInsideTheTransactionWhereTheCheckTurnsBad() throws IOException {
        BisectResult r = bisect(TEN_BY_TEN).run(0, 100, holdsThrough(47), told::add);

        assertTrue(r.isFound());
        assertEquals(47, r.lastGoodSeq());
        assertEquals(48, r.firstBadSeq());
        assertEquals(40, r.boundaryBefore(), "the transaction found is 41..50");
        assertEquals(50, r.boundaryAfter());
        assertEquals("last good write: seq 47 (first bad: seq 48)", r.message());
        assertEquals(r.steps(), told, "the listener is told of every step, in order");
        assertTrue(r.warnings().isEmpty());
    }

    @Test
    void neverProbesInsideARestoreAndNamesItsBoundaryBeforeWhenTheCheckTurnsBadThere() throws IOException {
        // 41..50 is a restore in place's writes: no seq strictly inside them is a state anyone wrote
        Bisect b = new Bisect(TEN_BY_TEN, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC), seq -> seq <= 40 || seq >= 50);
        BisectResult r = b.run(0, 100, holdsThrough(45), told::add);

        assertTrue(r.isFound());
        assertEquals(40, r.lastGoodSeq(), "the point before the restore");
        assertEquals(40, r.boundaryBefore());
        assertEquals(50, r.boundaryAfter());
        assertTrue(r.steps().stream().map(BisectStep::seq).noneMatch(seq -> seq > 40 && seq < 50),
                "no probe inside the restore: " + r.steps());
    }

    @Test
    void probesBothEndsFirstThenBoundariesThenSingleWrites() throws IOException {
        BisectResult r = bisect(TEN_BY_TEN).run(0, 100, holdsThrough(47), told::add);

        List<Long> seqs = r.steps().stream().map(BisectStep::seq).toList();
        assertEquals(List.of(0L, 100L, 50L, 20L, 30L, 40L, 45L, 47L, 48L), seqs);
        assertTrue(r.steps().get(0).isEnd() && r.steps().get(1).isEnd());
        assertTrue(r.steps().subList(2, 6).stream().allMatch(BisectStep::isBoundary), "whole transactions first");
        assertTrue(r.steps().subList(6, 9).stream().noneMatch(BisectStep::isBoundary), "then write by write");
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9), r.steps().stream().map(BisectStep::number).toList());
        assertEquals("relation \"t\" does not exist", r.steps().get(1).verdict().detail());
    }

    @Test
    void aCheckThatTurnsBadAtABoundaryNamesTheBoundary() throws IOException {
        BisectResult r = bisect(TEN_BY_TEN).run(0, 100, holdsThrough(60), told::add);
        assertEquals(60, r.lastGoodSeq());
        assertEquals(61, r.firstBadSeq());
    }

    @Test
    void endsThatAreNotBoundariesAndNoBoundaryBetweenSearchWriteByWrite() throws IOException {
        BisectResult r = bisect(TEN_BY_TEN).run(42, 49, holdsThrough(42), told::add);
        assertEquals(42, r.lastGoodSeq());
        assertEquals(List.of(42L, 49L, 45L, 43L), r.steps().stream().map(BisectStep::seq).toList());
    }

    @Test
    void neighbouringEndsNeedNoProbeBetween() throws IOException {
        BisectResult r = bisect(new long[0]).run(7, 8, holdsThrough(7), told::add);
        assertEquals(7, r.lastGoodSeq());
        assertEquals(2, r.steps().size());
    }

    @Test
    void aCheckThatHoldsAtBothEndsSaysSoInsteadOfGuessing() throws IOException {
        BisectResult r = bisect(TEN_BY_TEN).run(10, 90, holdsThrough(95), told::add);

        assertEquals(BisectResult.Outcome.HOLDS_AT_BOTH, r.outcome());
        assertFalse(r.isFound());
        assertEquals(-1, r.firstBadSeq());
        assertEquals(2, r.steps().size(), "only the ends are probed");
        assertTrue(r.message().startsWith("the check holds at --good (seq 10) and also at --bad (seq 90)"), r.message());
    }

    @Test
    void aCheckThatFailsAtBothEndsSaysSoWithTheReason() throws IOException {
        BisectResult r = bisect(TEN_BY_TEN).run(10, 90, holdsThrough(5), told::add);

        assertEquals(BisectResult.Outcome.FAILS_AT_BOTH, r.outcome());
        assertEquals(2, r.steps().size());
        assertTrue(r.message().startsWith("the check fails at --bad (seq 90) and already at --good (seq 10: relation \"t\" does not exist)"),
                r.message());
        assertTrue(r.warnings().isEmpty(), "failing at both is consistent, not a contradiction");
    }

    @Test
    void aCheckThatFailsAtGoodAndHoldsAtBadSaysSoAndWarns() throws IOException {
        BisectResult r = bisect(TEN_BY_TEN).run(10, 90, seq -> seq >= 50 ? Verdict.good("returned true") : Verdict.bad("returned false"), told::add);

        assertEquals(BisectResult.Outcome.FAILS_AT_GOOD_HOLDS_AT_BAD, r.outcome());
        assertTrue(r.message().contains("fails at --good (seq 10: returned false) but holds at --bad (seq 90)"), r.message());
        assertEquals(1, r.warnings().size());
        assertTrue(r.warnings().get(0).startsWith("the check fails at seq 10 but holds again at the later seq 90"), r.warnings().get(0));
    }

    @Test
    void aNonMonotoneCheckStillEndsAtAPlaceWhereItTurnsBad() throws IOException {
        // good at 0..30 and 61..80; bad at 31..60 and 81..100
        Probe twoFlips = seq -> seq <= 30 || seq > 60 && seq <= 80 ? Verdict.good("returned true") : Verdict.bad("returned 0");
        BisectResult r = bisect(TEN_BY_TEN).run(0, 100, twoFlips, told::add);

        assertTrue(r.isFound());
        assertTrue(r.lastGoodSeq() == 30 || r.lastGoodSeq() == 80, "a real flip: " + r.lastGoodSeq());
    }

    @Test
    void stepsCarryHowLongEachProbeTook() throws IOException {
        Clock ticking = new Clock() {
            private Instant now = Instant.EPOCH;

            @Override
            public Instant instant() {
                now = now.plusSeconds(2);
                return now;
            }

            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }
        };
        BisectResult r = new Bisect(TEN_BY_TEN, ticking).run(0, 100, holdsThrough(3), told::add);
        assertTrue(r.steps().stream().allMatch(s -> s.took().equals(Duration.ofSeconds(2))), r.steps().toString());
    }

    @Test
    void aProbeThatCannotRunEndsTheBisectWithItsError() {
        Probe failing = seq -> {
            if (seq == 50) {
                throw new IOException("the database on sandbox bisect-50 did not start; see /tmp/x/postgres.log");
            }
            return seq < 40 ? Verdict.good("returned true") : Verdict.bad("returned false");
        };
        IOException e = assertThrows(IOException.class, () -> bisect(TEN_BY_TEN).run(0, 100, failing, told::add));
        assertTrue(e.getMessage().contains("did not start"));
        assertEquals(2, told.size(), "the steps done before are told");
    }

    @Test
    void goodNotBeforeBadIsRefused() {
        RewindException e = assertThrows(RewindException.class, () -> bisect(TEN_BY_TEN).run(50, 50, holdsThrough(1), told::add));
        assertEquals("--good (seq 50) must be before --bad (seq 50)", e.getMessage());
        assertThrows(RewindException.class, () -> bisect(TEN_BY_TEN).run(60, 50, holdsThrough(1), told::add));
        assertTrue(told.isEmpty(), "nothing probed");
    }
}
