package dev.rewind.increments.deltamap;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.NavigableMap;
import java.util.zip.CRC32C;

/**
 * The merged delta map of a span of transactions {@code firstId..lastId}: for every byte any of
 * them changed, the id of the <em>oldest</em> one that changed it. That transaction's backward
 * increment holds what the byte held when the span began, so a reader of a point before the
 * span claims the whole span with one map instead of walking each transaction's increment.
 * Immutable once written; derived from the increments' indexes (a missing file is built again,
 * a damaged one is refused by name).
 *
 * <pre>
 * offset  bytes  field
 * 0       8      magic "RWNDSPAN"
 * 8       4      version (1)
 * 12      4      member count
 * 16      8      first transaction id
 * 24      8      last transaction id
 * 32      8      extent count N
 * 40      4      reserved (0)
 * 44      4      CRC32C of bytes 0..43
 * 48      28*N   extents, by member then start: member (4), start (8), end (8), source id (8)
 * 48+28N  4      CRC32C of the extents
 * </pre>
 * Extents are disjoint within a member; adjacent extents of one source are joined.
 */
public final class SpanMap {
    private static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'S', 'P', 'A', 'N'};
    private static final int VERSION = 1;
    static final int HEADER_BYTES = 48;
    static final int EXTENT_BYTES = 28;
    private static final int HEADER_CRC_AT = 44;

    private final long firstId;
    private final long lastId;
    private final int memberCount;
    private final int[] members;
    private final long[] starts;
    private final long[] ends;
    private final long[] sources;

    private SpanMap(long firstId, long lastId, int memberCount, int[] members, long[] starts, long[] ends, long[] sources) {
        this.firstId = firstId;
        this.lastId = lastId;
        this.memberCount = memberCount;
        this.members = members;
        this.starts = starts;
        this.ends = ends;
        this.sources = sources;
    }

    /**
     * The span map of transactions {@code firstId..lastId} from a write map whose sources are
     * transaction ids, each byte claimed by the oldest one that changed it.
     */
    static SpanMap of(long firstId, long lastId, WriteMap oldestFirst) {
        int count = 0;
        for (int m = 0; m < oldestFirst.memberCount(); m++) {
            count += oldestFirst.extents(m).size();
        }
        int[] members = new int[count];
        long[] starts = new long[count];
        long[] ends = new long[count];
        long[] sources = new long[count];
        int n = 0;
        for (int m = 0; m < oldestFirst.memberCount(); m++) {
            NavigableMap<Long, WriteMap.Extent> extents = oldestFirst.extents(m);
            for (WriteMap.Extent e : extents.values()) {
                if (n > 0 && members[n - 1] == m && ends[n - 1] == e.startBytes() && sources[n - 1] == e.source()) {
                    ends[n - 1] = e.endBytes();
                    continue;
                }
                members[n] = m;
                starts[n] = e.startBytes();
                ends[n] = e.endBytes();
                sources[n] = e.source();
                n++;
            }
        }
        return new SpanMap(firstId, lastId, oldestFirst.memberCount(), Arrays.copyOf(members, n), Arrays.copyOf(starts, n),
                Arrays.copyOf(ends, n), Arrays.copyOf(sources, n));
    }

    public long firstId() {
        return firstId;
    }

    public long lastId() {
        return lastId;
    }

    public int memberCount() {
        return memberCount;
    }

    public int extentCount() {
        return members.length;
    }

    /** Claims every extent into {@code map} for its source, as {@code -id} (a backward increment's source in a point-in-time map). */
    public void claimInto(WriteMap map, boolean negate) {
        for (int i = 0; i < members.length; i++) {
            map.claim(members[i], starts[i], ends[i], negate ? -sources[i] : sources[i]);
        }
    }

    /** Writes the map to {@code file} atomically and durably (a reader never sees part of it). */
    void write(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + members.length * EXTENT_BYTES + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(memberCount).putLong(firstId).putLong(lastId).putLong(members.length).putInt(0);
        b.putInt(crc(b.array(), 0, HEADER_CRC_AT));
        for (int i = 0; i < members.length; i++) {
            b.putInt(members[i]).putLong(starts[i]).putLong(ends[i]).putLong(sources[i]);
        }
        b.putInt(crc(b.array(), HEADER_BYTES, members.length * EXTENT_BYTES));
        DurableFiles.writeAtomically(file, b.array(), false);
    }

    /**
     * Reads and checks the map in {@code file}, which must be the span {@code firstId..lastId}
     * of a set of {@code memberCount} members; anything else is corruption, named with the file.
     */
    static SpanMap read(Path file, long firstId, long lastId, int memberCount) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < HEADER_BYTES + 4 || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new CorruptDataException(file, 0, "not a span map (bad magic or " + bytes.length + " bytes)");
        }
        int headerCrc = crc(bytes, 0, HEADER_CRC_AT);
        if (b.getInt(HEADER_CRC_AT) != headerCrc) {
            throw CorruptDataException.checksum(file, HEADER_CRC_AT, b.getInt(HEADER_CRC_AT), headerCrc);
        }
        int version = b.getInt(8);
        if (version != VERSION) {
            throw new CorruptDataException(file, 8, "span map version " + version + ", this build reads " + VERSION);
        }
        if (b.getInt(12) != memberCount || b.getLong(16) != firstId || b.getLong(24) != lastId) {
            throw new CorruptDataException(file, 12, "span map of transactions " + b.getLong(16) + ".." + b.getLong(24) + " over "
                    + b.getInt(12) + " members, expected " + firstId + ".." + lastId + " over " + memberCount);
        }
        long count = b.getLong(32);
        if (count < 0 || count > (bytes.length - HEADER_BYTES - 4) / EXTENT_BYTES
                || HEADER_BYTES + count * EXTENT_BYTES + 4 != bytes.length) {
            throw new CorruptDataException(file, 32, "span map claims " + count + " extents in " + bytes.length + " bytes");
        }
        int n = (int) count;
        int extentsCrc = crc(bytes, HEADER_BYTES, n * EXTENT_BYTES);
        int storedCrc = b.getInt(HEADER_BYTES + n * EXTENT_BYTES);
        if (storedCrc != extentsCrc) {
            throw CorruptDataException.checksum(file, HEADER_BYTES + (long) n * EXTENT_BYTES, storedCrc, extentsCrc);
        }
        int[] members = new int[n];
        long[] starts = new long[n];
        long[] ends = new long[n];
        long[] sources = new long[n];
        b.position(HEADER_BYTES);
        for (int i = 0; i < n; i++) {
            members[i] = b.getInt();
            starts[i] = b.getLong();
            ends[i] = b.getLong();
            sources[i] = b.getLong();
            boolean ordered = i == 0 || members[i] > members[i - 1] || (members[i] == members[i - 1] && starts[i] >= ends[i - 1]);
            if (members[i] < 0 || members[i] >= memberCount || starts[i] < 0 || ends[i] <= starts[i] || !ordered
                    || sources[i] < firstId || sources[i] > lastId) {
                throw new CorruptDataException(file, HEADER_BYTES + (long) i * EXTENT_BYTES, "span map extent " + i + " (member "
                        + members[i] + ", [" + starts[i] + ", " + ends[i] + "), transaction " + sources[i] + ") is out of order or range");
            }
        }
        return new SpanMap(firstId, lastId, memberCount, members, starts, ends, sources);
    }

    private static int crc(byte[] a, int from, int length) {
        CRC32C c = new CRC32C();
        c.update(a, from, length);
        return (int) c.getValue();
    }
}
