package dev.rewind.increments.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.CutRules;
import dev.rewind.increments.transaction.IncrementStore;
import dev.rewind.increments.transaction.TransactionCutter;
import dev.rewind.increments.transaction.TransactionLog;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A history cut by a version that did not hold cuts during a restore in place: a boundary
 * falls inside the restore's writes. That boundary names a state no one wrote (part of the
 * blocks at the restore's target, part as they were), so it is never offered: refused with the
 * nearest points outside the restore, skipped by "the nearest point" lookups, and marked in the
 * transaction log, so that it stays refused once the journal that showed it is gone.
 */
class BoundaryInsideRestoreTest {
    private static final int WRITE_BYTES = 300 << 10;

    @TempDir
    Path tmp;

    @Test
    void aBoundaryInsideARestoresWritesIsNeverOfferedEvenAfterTheJournalIsGone() throws IOException {
        UUID uuid = UUID.randomUUID();
        Clock clock = Clock.systemUTC();
        Random r = new Random(22);
        try (Journal journal = Journal.open(tmp.resolve("journal"), uuid, 1, 1 << 20, clock);
             ReplicaImage replica = ReplicaImage.create(tmp.resolve("replica"), "m0", 1 << 20, BoundaryInsideRestoreTest::zeros,
                     ProgressListener.NONE);
             IncrementStore store = new IncrementStore(tmp.resolve("increments"))) {
            TransactionLog log = TransactionLog.open(tmp.resolve("transactions"), uuid, 0);
            SetHistory history = new SetHistory("s", journal, log, store, List.of(replica), clock);
            TransactionCutter cutter = new TransactionCutter(uuid, journal, log, store, List.of(replica), history.writeLock());
            append(journal, r, 0, 3);                       // seqs 1..3: the database's writes
            cut(cutter, 3);
            append(journal, r, JournalRecord.FLAG_RESTORE, 6); // seqs 4..9: a restore in place
            cut(cutter, 6);                                 // a cut inside it, as an older version could make
            cut(cutter, 9);
            append(journal, r, 0, 2);                       // seqs 10..11
            cut(cutter, 11);

            assertTrue(log.byId(3).orElseThrow().startsInsideRestore(), "the transaction after the boundary inside is marked");
            assertFalse(log.byId(2).orElseThrow().startsInsideRestore(), "the one that begins with the restore is not");
            assertFalse(log.byId(4).orElseThrow().startsInsideRestore(), "nor the one after its end");
            checkOffered(history, "with the journal");

            // the journal that showed the restore's writes goes; the transaction log's mark remains
            journal.deleteSegmentsUpTo(log.lastSeq(), clock.instant().plus(Duration.ofDays(1)));
            assertTrue(journal.firstSeq() > 7, "the journal of seqs 1..7 was deleted: it starts at " + journal.firstSeq());
            checkOffered(history, "without the journal");

            log.close();
            log = TransactionLog.open(tmp.resolve("transactions"), uuid, 0);
            assertTrue(log.byId(3).orElseThrow().startsInsideRestore(), "the mark survives a reopen");
            checkOffered(new SetHistory("s", journal, log, store, List.of(replica), clock), "after a reopen");
            log.close();
        }
    }

    private static void checkOffered(SetHistory history, String when) {
        assertTrue(history.isInsideRestore(6), when + ": the boundary at seq 6 lies inside the restore");
        assertFalse(history.isInsideRestore(3), when + ": seq 3, before the restore");
        assertFalse(history.isInsideRestore(9), when + ": seq 9, its last write");
        RewindException e = assertThrows(RewindException.class, () -> history.checkPlaceable(6), when);
        assertTrue(e.getMessage().contains("restore in place") && e.getMessage().contains("seq 3 and seq 9"), when + ": " + e.getMessage());
        assertEquals(3, history.placeableAtOrBefore(6), when + ": the nearest point before it");
        assertEquals(9, history.placeableAtOrAfter(6), when + ": the nearest point after it");
        history.checkPlaceable(3);
        history.checkPlaceable(9);
    }

    private static void append(Journal journal, Random r, int flags, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            byte[] data = new byte[WRITE_BYTES];
            r.nextBytes(data);
            journal.append(RecordType.WRITE, flags, 0, (long) r.nextInt(3) * WRITE_BYTES, WRITE_BYTES, ByteBuffer.wrap(data));
        }
    }

    private static void cut(TransactionCutter cutter, long seq) throws IOException {
        assertEquals(seq, cutter.cut(seq, CutReason.DEMAND, CutRules.NONE, IncrementCodec.NONE).orElseThrow().lastSeq());
    }

    private static void zeros(long offsetBytes, ByteBuffer dst) {
        while (dst.hasRemaining()) {
            dst.put((byte) 0);
        }
    }
}
