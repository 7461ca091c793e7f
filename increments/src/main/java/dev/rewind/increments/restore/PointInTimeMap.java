package dev.rewind.increments.restore;

import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementExtent;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.increments.transaction.IncrementStore;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.ByteRangeSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where every byte of a set lived at one seq: for each member, disjoint ranges each naming
 * its source, either the newest record at or before the seq inside the seq's transaction, or
 * the backward increment of the oldest later transaction that changed it; bytes neither holds
 * come from the replica. Built once from indexes only (no data is read), immutable
 * afterwards, and valid while the replica stays at {@link #replicaSeq()}.
 */
final class PointInTimeMap {
    /** Member bytes {@code [start, endBytes)} come from journal seq {@code source} ({@code > 0}) or from transaction {@code -source}'s backward increment. */
    private record Extent(long endBytes, long source) {
    }

    private final long seq;
    private final long replicaSeq;
    private final List<TreeMap<Long, Extent>> extentsByMember;

    private PointInTimeMap(long seq, long replicaSeq, List<TreeMap<Long, Extent>> extentsByMember) {
        this.seq = seq;
        this.replicaSeq = replicaSeq;
        this.extentsByMember = extentsByMember;
    }

    /**
     * The map of the set at {@code seq}: the journal from {@code seq} back to {@code boundary}
     * (exclusive), then the backward increments of {@code later} (oldest first), newest claim wins.
     */
    static PointInTimeMap build(Journal journal, long seq, long boundary, List<Transaction> later, IncrementStore store,
                                long replicaSeq, int memberCount) throws IOException {
        List<TreeMap<Long, Extent>> maps = new ArrayList<>();
        ByteRangeSet[] covered = new ByteRangeSet[memberCount];
        for (int m = 0; m < memberCount; m++) {
            maps.add(new TreeMap<>());
            covered[m] = new ByteRangeSet();
        }
        for (long s = seq; s > boundary; s--) {
            long start = journal.offsetOf(s);
            claim(maps, covered, journal.memberOf(s), start, start + journal.lengthOf(s), s);
        }
        for (Transaction t : later) {
            for (IncrementExtent e : store.get(t.id(), IncrementDirection.BACKWARD).extents()) {
                claim(maps, covered, e.member(), e.offsetBytes(), e.endBytes(), -t.id());
            }
        }
        return new PointInTimeMap(seq, replicaSeq, maps);
    }

    private static void claim(List<TreeMap<Long, Extent>> maps, ByteRangeSet[] covered, int member, long start, long end, long source) {
        long cursor = start;
        for (ByteRangeSet.Range taken : covered[member].intersection(start, end)) {
            if (taken.startBytes() > cursor) {
                maps.get(member).put(cursor, new Extent(taken.startBytes(), source));
            }
            cursor = taken.endBytes();
        }
        if (cursor < end) {
            maps.get(member).put(cursor, new Extent(end, source));
        }
        covered[member].add(start, end);
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
        TreeMap<Long, Extent> extents = extentsByMember.get(member);
        long cursor = offsetBytes;
        Map.Entry<Long, Extent> e = extents.floorEntry(offsetBytes);
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
