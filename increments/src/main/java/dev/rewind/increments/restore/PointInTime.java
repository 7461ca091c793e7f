package dev.rewind.increments.restore;

import dev.rewind.increments.deltamap.DeltaMap;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.volumeset.ByteRangeSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Reads what chosen ranges of a set held at seq N, without touching anything else:
 * the journal is played back newest-first from N, each byte taken from the newest
 * record at or before N that wrote it; bytes no record wrote come from the replica.
 * Every byte read is checked against its checksum on the way.
 */
public final class PointInTime {
    private static final int MAX_PIECE_BYTES = 1 << 20;
    private final Journal journal;
    private final List<ReplicaImage> replicas;
    private final long replicaSeq;

    /**
     * @param replicas one replica image per member, equal to the set at {@code replicaSeq}
     */
    public PointInTime(Journal journal, List<ReplicaImage> replicas, long replicaSeq) {
        this.journal = journal;
        this.replicas = replicas;
        this.replicaSeq = replicaSeq;
    }

    /** The oldest seq this history can bring back. */
    public long oldestSeq() {
        return replicaSeq;
    }

    /**
     * Emits the content at {@code seq} of every range in {@code wanted} to {@code sink}.
     * The ranges of {@code wanted} are consumed.
     *
     * @return the number of bytes emitted
     */
    public long reconstruct(long seq, DeltaMap wanted, RangeSink sink) throws IOException {
        if (seq < replicaSeq || seq > journal.lastSeq()) {
            throw new IllegalArgumentException("seq " + seq + " is outside " + replicaSeq + ".." + journal.lastSeq());
        }
        long emitted = 0;
        long remainingBytes = wanted.totalBytes();
        ByteBuffer payload = ByteBuffer.allocate(0);
        for (long s = seq; s >= journal.firstSeq() && remainingBytes > 0; s--) {
            int member = journal.memberOf(s);
            ByteRangeSet remaining = wanted.changed(member);
            long start = journal.offsetOf(s);
            long end = start + journal.lengthOf(s);
            if (!remaining.intersects(start, end)) {
                continue;
            }
            List<ByteRangeSet.Range> parts = remaining.intersection(start, end);
            RecordType type = journal.typeOf(s);
            if (type == RecordType.WRITE) {
                int length = journal.lengthOf(s);
                if (payload.capacity() < length + Journal.READ_OVERHEAD_BYTES) {
                    payload = ByteBuffer.allocate(Math.max(length + Journal.READ_OVERHEAD_BYTES, 64 << 10));
                }
                payload.clear();
                journal.readPayload(s, payload);
                for (ByteRangeSet.Range part : parts) {
                    int from = (int) (part.startBytes() - start);
                    ByteBuffer slice = payload.duplicate();
                    slice.limit(from + (int) part.lengthBytes()).position(from);
                    sink.accept(member, part.startBytes(), (int) part.lengthBytes(), slice);
                }
            } else {
                for (ByteRangeSet.Range part : parts) {
                    emitZeros(member, part, sink);
                }
            }
            for (ByteRangeSet.Range part : parts) {
                remaining.remove(part.startBytes(), part.endBytes());
                emitted += part.lengthBytes();
                remainingBytes -= part.lengthBytes();
            }
        }
        if (remainingBytes > 0) {
            ByteBuffer buf = ByteBuffer.allocate(MAX_PIECE_BYTES);
            for (int member = 0; member < wanted.memberCount(); member++) {
                for (ByteRangeSet.Range r : wanted.changed(member)) {
                    for (long pos = r.startBytes(); pos < r.endBytes(); ) {
                        int n = (int) Math.min(MAX_PIECE_BYTES, r.endBytes() - pos);
                        buf.clear().limit(n);
                        replicas.get(member).read(pos, buf);
                        buf.flip();
                        sink.accept(member, pos, n, buf);
                        pos += n;
                        emitted += n;
                    }
                }
                wanted.changed(member).remove(0, Long.MAX_VALUE);
            }
        }
        return emitted;
    }

    private static void emitZeros(int member, ByteRangeSet.Range part, RangeSink sink) throws IOException {
        for (long pos = part.startBytes(); pos < part.endBytes(); ) {
            int n = (int) Math.min(MAX_PIECE_BYTES, part.endBytes() - pos);
            sink.accept(member, pos, n, null);
            pos += n;
        }
    }
}
