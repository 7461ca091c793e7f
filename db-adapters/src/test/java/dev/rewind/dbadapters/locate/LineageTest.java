package dev.rewind.dbadapters.locate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.locate.Lineage.SeqRange;
import dev.rewind.volumeset.catalog.RestoreRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The seqs that make up a set's current state after restores in place. */
class LineageTest {

    private static RestoreRecord restore(long target, long first, long last) {
        return new RestoreRecord("s", target, first, last, 4096, 0);
    }

    @Test
    void withoutRestoresEverySeqCounts() {
        Lineage l = Lineage.of(List.of(), 30);
        assertEquals(List.of(new SeqRange(1, 30)), l.ranges());
        assertEquals(30, l.headSeq());
    }

    @Test
    void aRestoreLeavesOutWhatItUndidAndItsOwnWrites() {
        Lineage l = Lineage.of(List.of(restore(10, 21, 25)), 30);
        assertEquals(List.of(new SeqRange(1, 10), new SeqRange(26, 30)), l.ranges());
        assertTrue(l.contains(10));
        assertFalse(l.contains(11));
        assertFalse(l.contains(23));
        assertTrue(l.contains(26));
    }

    @Test
    void aRestoreThatChangedNothingStillLeavesOutTheUndoneSeqs() {
        Lineage l = Lineage.of(List.of(restore(10, 21, 20)), 30);
        assertEquals(List.of(new SeqRange(1, 10), new SeqRange(21, 30)), l.ranges());
    }

    @Test
    void aRestoreUndoneByALaterOneIsSkipped() {
        // restore to 5 (writes 11..12), then a restore to 8, before the first one happened
        Lineage l = Lineage.of(List.of(restore(5, 11, 12), restore(8, 20, 22)), 25);
        assertEquals(List.of(new SeqRange(1, 8), new SeqRange(23, 25)), l.ranges());
    }

    @Test
    void restoresAfterRestoresChainBackInAnyOrderGiven() {
        List<SeqRange> expected = List.of(new SeqRange(1, 5), new SeqRange(13, 15), new SeqRange(22, 25));
        assertEquals(expected, Lineage.of(List.of(restore(5, 11, 12), restore(15, 20, 21)), 25).ranges());
        assertEquals(expected, Lineage.of(List.of(restore(15, 20, 21), restore(5, 11, 12)), 25).ranges());
    }

    @Test
    void aRestoreAsTheNewestWritesLeavesTheTargetAsHead() {
        Lineage l = Lineage.of(List.of(restore(7, 11, 14)), 14);
        assertEquals(List.of(new SeqRange(1, 7)), l.ranges());
        assertEquals(7, l.headSeq());
    }
}
