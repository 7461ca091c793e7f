package dev.rewind.increments.deltamap;

import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.volumeset.ByteRangeSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where every byte of a set lived at one seq: for each member, disjoint ranges each naming
 * the newest record at or before that seq that wrote it; bytes no record wrote come from the
 * replica. Built once by one newest-first pass over the journal's index (no data is read), it
 * is immutable afterwards, so a read-only view of the past costs one lookup per read instead
 * of a walk through the history.
 */
public final class PointInTimeMap {
    /** Member bytes {@code [start, end)} were last written, as of this map's seq, by {@code seq}. */
    private record Extent(long endBytes, long seq) {
    }

    private final long seq;
    private final List<TreeMap<Long, Extent>> extentsByMember;

    private PointInTimeMap(long seq, List<TreeMap<Long, Extent>> extentsByMember) {
        this.seq = seq;
        this.extentsByMember = extentsByMember;
    }

    /** The map of the set at {@code seq}: newest wins, from {@code seq} back to the journal's start. */
    public static PointInTimeMap build(Journal journal, long seq, int memberCount) {
        List<TreeMap<Long, Extent>> maps = new java.util.ArrayList<>();
        ByteRangeSet[] covered = new ByteRangeSet[memberCount];
        for (int m = 0; m < memberCount; m++) {
            maps.add(new TreeMap<>());
            covered[m] = new ByteRangeSet();
        }
        for (long s = seq; s >= journal.firstSeq(); s--) {
            int member = journal.memberOf(s);
            long start = journal.offsetOf(s);
            long end = start + journal.lengthOf(s);
            long cursor = start;
            for (ByteRangeSet.Range taken : covered[member].intersection(start, end)) {
                if (taken.startBytes() > cursor) {
                    maps.get(member).put(cursor, new Extent(taken.startBytes(), s));
                }
                cursor = taken.endBytes();
            }
            if (cursor < end) {
                maps.get(member).put(cursor, new Extent(end, s));
            }
            covered[member].add(start, end);
        }
        return new PointInTimeMap(seq, maps);
    }

    public long seq() {
        return seq;
    }

    /**
     * Fills {@code dst} with member {@code member}'s bytes at {@code offsetBytes} as of this
     * map's seq, reading (and checksumming) only the records and replica chunks that hold them.
     */
    public void read(int member, long offsetBytes, ByteBuffer dst, Journal journal, ReplicaImage replica) throws IOException {
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
                ByteBuffer gap = dst.duplicate().position(base + (int) (cursor - offsetBytes)).limit(base + (int) (nextStart - offsetBytes));
                replica.read(cursor, gap);
                cursor = nextStart;
                continue;
            }
            long pieceEnd = Math.min(end, e.getValue().endBytes());
            long recordSeq = e.getValue().seq();
            int at = base + (int) (cursor - offsetBytes);
            int length = (int) (pieceEnd - cursor);
            if (journal.typeOf(recordSeq) == RecordType.WRITE) {
                int recordLength = journal.lengthOf(recordSeq);
                if (payload == null || payload.capacity() < recordLength + Journal.READ_OVERHEAD_BYTES) {
                    payload = ByteBuffer.allocate(recordLength + Journal.READ_OVERHEAD_BYTES);
                }
                payload.clear();
                journal.readPayload(recordSeq, payload);
                dst.put(at, payload, (int) (cursor - journal.offsetOf(recordSeq)), length);
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
}
