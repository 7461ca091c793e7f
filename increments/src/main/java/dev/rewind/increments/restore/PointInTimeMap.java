package dev.rewind.increments.restore;

import dev.rewind.increments.deltamap.SpanMaps;
import dev.rewind.increments.deltamap.WriteMap;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.increments.transaction.IncrementStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.NavigableMap;

/**
 * Where every byte of a set lived at one seq: for each member, disjoint ranges each naming
 * its source, either the newest record at or before the seq inside the seq's transaction, or
 * the backward increment of the oldest later transaction that changed it; bytes neither holds
 * come from the replica. Built once from indexes only (no data is read), immutable
 * afterwards, and valid while the replica stays at {@link #replicaSeq()}.
 */
final class PointInTimeMap {
    private final long seq;
    private final long replicaSeq;
    /** Sources: a journal seq when positive, transaction {@code -source}'s backward increment when negative. */
    private final WriteMap sources;

    private PointInTimeMap(long seq, long replicaSeq, WriteMap sources) {
        this.seq = seq;
        this.replicaSeq = replicaSeq;
        this.sources = sources;
    }

    /**
     * The map of the set at {@code seq}: the journal from {@code seq} back to {@code boundary}
     * (exclusive), then the backward increments of transactions {@code firstLaterId..lastLaterId}
     * (oldest first, through the merged delta maps of {@code spans}), newest claim wins.
     */
    static PointInTimeMap build(Journal journal, long seq, long boundary, long firstLaterId, long lastLaterId, SpanMaps spans,
                                long replicaSeq, int memberCount) throws IOException {
        WriteMap sources = WriteMap.of(journal, boundary, seq, memberCount);
        if (firstLaterId <= lastLaterId) {
            spans.claimOldestFirst(sources, firstLaterId, lastLaterId);
        }
        return new PointInTimeMap(seq, replicaSeq, sources);
    }

    long seq() {
        return seq;
    }

    long replicaSeq() {
        return replicaSeq;
    }

    /**
     * Fills {@code dst} with member {@code member}'s bytes at {@code offsetBytes} as of this
     * map's seq, reading (and checksumming) only the records, increment chunks and replica
     * chunks that hold them.
     */
    void read(int member, long offsetBytes, ByteBuffer dst, Journal journal, IncrementStore store, ReplicaImage replica) throws IOException {
        int base = dst.position();
        long end = offsetBytes + dst.remaining();
        NavigableMap<Long, WriteMap.Extent> extents = sources.extents(member);
        long cursor = offsetBytes;
        Map.Entry<Long, WriteMap.Extent> e = extents.floorEntry(offsetBytes);
        if (e == null || e.getValue().endBytes() <= offsetBytes) {
            e = extents.higherEntry(offsetBytes);
        }
        ByteBuffer payload = null;
        while (cursor < end) {
            long nextStart = e == null ? end : Math.min(end, Math.max(cursor, e.getKey()));
            if (nextStart > cursor) {
                replica.read(cursor, slice(dst, base + (int) (cursor - offsetBytes), (int) (nextStart - cursor)));
                cursor = nextStart;
                continue;
            }
            long pieceEnd = Math.min(end, e.getValue().endBytes());
            long source = e.getValue().source();
            int at = base + (int) (cursor - offsetBytes);
            int length = (int) (pieceEnd - cursor);
            if (source < 0) {
                IncrementFile backward = store.get(-source, IncrementDirection.BACKWARD);
                backward.read(member, cursor, slice(dst, at, length));
            } else if (journal.typeOf(source) == RecordType.WRITE) {
                int recordLength = journal.lengthOf(source);
                if (payload == null || payload.capacity() < recordLength + Journal.READ_OVERHEAD_BYTES) {
                    payload = ByteBuffer.allocate(recordLength + Journal.READ_OVERHEAD_BYTES);
                }
                payload.clear();
                journal.readPayload(source, payload);
                dst.put(at, payload, (int) (cursor - journal.offsetOf(source)), length);
            } else {
                for (int i = 0; i < length; i++) {
                    dst.put(at + i, (byte) 0);
                }
            }
            cursor = pieceEnd;
            e = extents.higherEntry(e.getKey());
        }
        dst.position(base + (int) (end - offsetBytes));
    }

    private static ByteBuffer slice(ByteBuffer dst, int at, int length) {
        return dst.duplicate().limit(at + length).position(at);
    }
}
