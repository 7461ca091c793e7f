package dev.rewind.capture;

import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.volumeset.layout.PrimaryMember;
import dev.rewind.volumeset.layout.SetPrimaries;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write path of one set: every write, trim and write-zeroes of any member takes the next
 * seq under the sequencer, goes to the journal, marks its dirty region durably, and only then
 * reaches the primary; flushes force the journal; checkpoints force the primaries and clear
 * the dirty regions. The first I/O error stops it until the set is reopened.
 */
final class CapturePath {
    private static final Logger LOG = LoggerFactory.getLogger(CapturePath.class);
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private final String setName;
    private final SetPrimaries primaries;
    private final Journal journal;
    private final DirtyRegionLog drl;
    /** Told the length of every record captured (the transactions' count and byte rules). */
    private final LongConsumer onRecord;
    private final ReentrantLock sequencer = new ReentrantLock();
    private final PrimaryStripes primaryStripes = new PrimaryStripes();
    private volatile long previousCheckpointSeq;
    private volatile boolean closed;
    /** The first I/O error of the write path; from then on writes, flushes and checkpoints fail until the set is reopened. */
    private volatile IOException failure;
    private volatile java.time.Instant failedAt;
    private final java.time.Clock clock;

    CapturePath(String setName, SetPrimaries primaries, Journal journal, DirtyRegionLog drl, LongConsumer onRecord, java.time.Clock clock) {
        this.clock = clock;
        this.setName = setName;
        this.primaries = primaries;
        this.journal = journal;
        this.drl = drl;
        this.onRecord = onRecord;
    }

    /** The seq the last checkpoint covered. */
    long previousCheckpointSeq() {
        return previousCheckpointSeq;
    }

    boolean isClosed() {
        return closed;
    }

    long capture(int member, RecordType type, int flags, long offsetBytes, long lengthBytes, ByteBuffer data) throws IOException {
        PrimaryMember primary = primaries.member(member);
        if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > primary.sizeBytes()) {
            throw new IllegalArgumentException("range " + offsetBytes + "+" + lengthBytes + " is outside member " + primary.name()
                    + " of " + primary.sizeBytes() + " bytes");
        }
        long seq = journal.reservedSeq();
        long pos = offsetBytes;
        long end = offsetBytes + lengthBytes;
        do {
            int n = (int) Math.min(Journal.MAX_RECORD_PAYLOAD_BYTES, end - pos);
            ByteBuffer piece = null;
            if (data != null) {
                piece = data.duplicate();
                piece.position(data.position() + (int) (pos - offsetBytes)).limit(piece.position() + n);
            }
            // Under the sequencer only: the seq, the record's place in the journal, and the primary
            // stripes, all taken in seq order. Checksum, copy and writes run outside it, in parallel.
            Journal.Reservation reservation;
            PrimaryStripes.Held stripes;
            sequencer.lock();
            try {
                if (closed) {
                    throw new IOException("set " + setName + " is closed");
                }
                checkNotFailed();
                try {
                    reservation = journal.reserve(type, flags, member, pos, n);
                } catch (IOException e) {
                    throw failed(e);
                }
                // Taken in seq order: a later overlapping write waits here until this one is on the primary.
                stripes = primaryStripes.lock(member, pos, pos + n);
            } finally {
                sequencer.unlock();
            }
            seq = reservation.seq();
            try {
                try {
                    drl.markDirty(member, pos, pos + n, seq); // durable before the primary is written
                } catch (IOException | RuntimeException e) {
                    journal.abandon(reservation, e instanceof IOException io ? io : new IOException(e.toString(), e));
                    throw e;
                }
                journal.write(reservation, piece);
                writeFullyOrZeros(primary, pos, n, piece);
            } catch (IOException e) {
                throw failed(e);
            } finally {
                stripes.unlock();
            }
            onRecord.accept(n);
            pos += n;
        } while (pos < end);
        if (data != null) {
            data.position(data.limit());
        }
        return seq;
    }

    /** Makes every write so far durable: the journal is forced (group commit). */
    void flush() throws IOException {
        flushTo(journal.reservedSeq());
    }

    /** Makes every write up to {@code seq} durable; a failed force stops the set like any other I/O error. */
    void flushTo(long seq) throws IOException {
        checkNotFailed();
        try {
            journal.flushTo(seq);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    /**
     * Remembers the first I/O error of the write path. After a failed write or force nothing
     * is known about what reached the disk, and a retried fsync succeeds without the pages the
     * failed one dropped (PostgreSQL's fsync lesson), so the set stops: every later write,
     * flush and checkpoint fails, the dirty regions stay marked, and recovery at the next open
     * decides what is durable.
     */
    private IOException failed(IOException e) {
        if (failure == null) {
            failedAt = clock.instant();
            failure = e;
            LOG.error("set {}: I/O error, the set stops taking writes until it is reopened ('rewind set reopen {}' once the cause is gone): {}",
                    setName, setName, e.toString());
        }
        return e;
    }

    /** Why and since when the set refuses writes, if it does. */
    java.util.Optional<CapturedSet.Stopped> stopped() {
        IOException f = failure;
        return f == null ? java.util.Optional.empty() : java.util.Optional.of(new CapturedSet.Stopped(String.valueOf(f.getMessage()), failedAt));
    }

    void checkNotFailed() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException("set " + setName + " stopped taking writes at " + failedAt + " after an I/O error (" + f.getMessage()
                    + "); once its cause is gone (space freed on the secondary or the primary, the file system writable again), "
                    + "'rewind set reopen " + setName + "' recovers it with every acknowledged write", f);
        }
    }

    /**
     * Forces the primaries, then clears the dirty regions that saw no write since the
     * previous checkpoint: their writes are now on the primary, and a region still being
     * written keeps its bit instead of paying for a new force on its next write.
     */
    void checkpoint() throws IOException {
        checkpoint(false);
    }

    private synchronized void checkpoint(boolean clearAll) throws IOException {
        checkNotFailed();
        long upTo;
        sequencer.lock();
        try {
            primaryStripes.awaitWritesInFlight(); // now every write reserved so far is in the journal and on the primary
            upTo = journal.reservedSeq();
        } finally {
            sequencer.unlock();
        }
        try {
            journal.flush();
            primaries.force();
            drl.clearWrittenAtOrBefore(clearAll ? upTo : previousCheckpointSeq);
        } catch (IOException e) {
            throw failed(e);
        }
        previousCheckpointSeq = upTo;
    }


    /** The last checkpoint, after which nothing is captured: the writes in flight finish first. */
    void close() throws IOException {
        sequencer.lock();
        try {
            checkpoint(true);
            closed = true;
        } finally {
            sequencer.unlock();
        }
    }

    static void writeFullyOrZeros(PrimaryMember p, long offset, int length, ByteBuffer data) throws IOException {
        if (data != null) {
            p.write(offset, data.duplicate());
            return;
        }
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int n = (int) Math.min(ZEROS.capacity(), end - pos);
            p.write(pos, ZEROS.duplicate().limit(n));
            pos += n;
        }
    }
}
