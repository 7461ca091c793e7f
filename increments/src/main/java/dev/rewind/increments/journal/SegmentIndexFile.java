package dev.rewind.increments.journal;

import dev.rewind.volumeset.io.StableFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The index file of one sealed journal segment ({@code <segment file>.idx}), as Kafka's
 * {@code OffsetIndex}: one fixed-width entry per numbered record, so that opening the journal
 * maps it read-only (off the heap) instead of scanning the segment. This class owns its byte
 * layout, writes it atomically when the segment is sealed, and checks it before any entry is
 * used.
 *
 * <pre>
 * header (64 bytes)                          entry (32 bytes), entry i = seq first seq + i
 *  0  8  magic "RWNDJIDX"                      0  8  offset in bytes
 *  8  4  version (1)                           8  8  time, micros since epoch
 * 12  4  header length (64)                   16  8  position of the record in the segment
 * 16  4  entry length (32)                    24  4  length in bytes
 * 20  4  reserved (0)                         28  2  member index
 * 24  8  the segment's first seq              30  1  type (RecordType code)
 * 32  8  entry count                          31  1  flags
 * 40  8  the segment file's length in bytes
 * 48  4  CRC32C of all entries
 * 52  8  reserved (0)
 * 60  4  CRC32C of [0, 60)
 * </pre>
 * Integers are big-endian. The header CRC covers the entries' CRC, so the two together
 * vouch for the whole file. {@link #open} checks the header against the segment (first seq,
 * file length, entry count against the index file's length); the entries' CRC is checked by
 * {@link #entriesAreIntact} before the first entry is read, so that opening a journal reads
 * a header per segment, not its history. Anything that does not match means the index is not
 * trusted: the segment is scanned and the index rebuilt.
 */
final class SegmentIndexFile implements SegmentEntries {
    static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'J', 'I', 'D', 'X'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 64;
    static final int ENTRY_BYTES = 32;
    static final String SUFFIX = ".idx";
    private static final String TEMP_SUFFIX = ".idx.tmp";
    private static final RecordType[] BY_CODE = new RecordType[256];

    static {
        for (RecordType t : RecordType.values()) {
            BY_CODE[t.code()] = t;
        }
    }

    private final Path path;
    private final MappedByteBuffer map;
    private final int count;
    private final int entriesCrc;
    private volatile boolean entriesChecked;

    private SegmentIndexFile(Path path, MappedByteBuffer map, int count, int entriesCrc) {
        this.path = path;
        this.map = map;
        this.count = count;
        this.entriesCrc = entriesCrc;
    }

    static Path pathFor(Path segment) {
        return segment.resolveSibling(segment.getFileName() + SUFFIX);
    }

    static boolean isTemp(Path file) {
        return file.getFileName().toString().endsWith(TEMP_SUFFIX);
    }

    /**
     * Writes the index of a sealed segment: to a temp file, forced, renamed over
     * {@code <segment>.idx}, directory forced.
     */
    static void write(Path segment, long firstSeq, long segmentBytes, SegmentEntries entries) throws IOException {
        int count = entries.count();
        Path target = pathFor(segment);
        Path temp = segment.resolveSibling(segment.getFileName() + TEMP_SUFFIX);
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.BIG_ENDIAN);
        CRC32C crc = new CRC32C();
        try (FileChannel c = StableFileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            long position = HEADER_BYTES;
            for (int i = 0; i < count; i++) {
                buf.putLong(entries.offset(i)).putLong(entries.time(i)).putLong(entries.position(i)).putInt(entries.length(i))
                        .putShort((short) entries.member(i)).put((byte) entries.type(i).code()).put((byte) entries.flags(i));
                if (!buf.hasRemaining() || i == count - 1) {
                    buf.flip();
                    crc.update(buf.duplicate());
                    position += JournalSegment.writeFully(c, buf, position);
                    buf.clear();
                }
            }
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
            h.put(MAGIC).putInt(VERSION).putInt(HEADER_BYTES).putInt(ENTRY_BYTES).putInt(0)
                    .putLong(firstSeq).putLong(count).putLong(segmentBytes).putInt((int) crc.getValue());
            CRC32C headerCrc = new CRC32C();
            headerCrc.update(h.array(), 0, 60);
            h.putInt(60, (int) headerCrc.getValue());
            h.clear();
            JournalSegment.writeFully(c, h, 0);
            c.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        JournalSegment.forceDirectory(segment.getParent());
    }

    /** The outcome of {@link #open}: the mapped index, or why it cannot be used. */
    record Opened(SegmentIndexFile index, String problem) {
    }

    /**
     * Maps the index of {@code segment} if its header is whole, checks out and describes this
     * segment (first seq and file length); otherwise returns why not. Never changes a file.
     */
    static Opened open(Path segment, long firstSeq, long segmentBytes) throws IOException {
        Path path = pathFor(segment);
        if (!Files.exists(path)) {
            return new Opened(null, "index file " + path + " is missing");
        }
        try (FileChannel c = StableFileChannel.open(path, StandardOpenOption.READ)) {
            long size = c.size();
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
            int n = JournalSegment.readFully(c, h, 0);
            if (n < HEADER_BYTES) {
                return new Opened(null, "index file " + path + " is " + size + " bytes, shorter than its header");
            }
            CRC32C crc = new CRC32C();
            crc.update(h.array(), 0, 60);
            byte[] magic = new byte[MAGIC.length];
            h.get(0, magic);
            if (!Arrays.equals(magic, MAGIC)) {
                return new Opened(null, "index file " + path + " has a bad magic");
            }
            if (h.getInt(60) != (int) crc.getValue()) {
                return new Opened(null, String.format("index file %s header CRC32C expected %08x, found %08x", path, h.getInt(60),
                        (int) crc.getValue()));
            }
            if (h.getInt(8) != VERSION || h.getInt(12) != HEADER_BYTES || h.getInt(16) != ENTRY_BYTES) {
                return new Opened(null, "index file " + path + " has version " + h.getInt(8) + ", this Rewind reads " + VERSION);
            }
            long count = h.getLong(32);
            if (h.getLong(24) != firstSeq) {
                return new Opened(null, "index file " + path + " starts at seq " + h.getLong(24) + ", its segment at " + firstSeq);
            }
            if (h.getLong(40) != segmentBytes) {
                return new Opened(null, "index file " + path + " describes a segment of " + h.getLong(40) + " bytes, the segment has "
                        + segmentBytes);
            }
            if (count < 0 || count > (Integer.MAX_VALUE - HEADER_BYTES) / ENTRY_BYTES || size != HEADER_BYTES + count * ENTRY_BYTES) {
                return new Opened(null, "index file " + path + " is " + size + " bytes, its header counts " + count + " entries");
            }
            MappedByteBuffer map = c.map(FileChannel.MapMode.READ_ONLY, 0, size);
            map.order(ByteOrder.BIG_ENDIAN);
            return new Opened(new SegmentIndexFile(path, map, (int) count, h.getInt(48)), null);
        }
    }

    Path path() {
        return path;
    }

    /**
     * Whether the entries match the CRC the header holds; reads them once, later calls answer
     * at once. An index whose entries do not match must not be used.
     */
    boolean entriesAreIntact() {
        if (entriesChecked) {
            return true;
        }
        CRC32C crc = new CRC32C();
        crc.update(map.slice(HEADER_BYTES, count * ENTRY_BYTES));
        if ((int) crc.getValue() != entriesCrc) {
            return false;
        }
        entriesChecked = true;
        return true;
    }

    /** Why {@link #entriesAreIntact} said no, for the log. */
    String entriesProblem() {
        CRC32C crc = new CRC32C();
        crc.update(map.slice(HEADER_BYTES, count * ENTRY_BYTES));
        return String.format("index file %s entries CRC32C expected %08x, found %08x", path, entriesCrc, (int) crc.getValue());
    }

    private static int at(int i) {
        return HEADER_BYTES + i * ENTRY_BYTES;
    }

    @Override
    public int count() {
        return count;
    }

    @Override
    public long offset(int i) {
        return map.getLong(at(i));
    }

    @Override
    public long time(int i) {
        return map.getLong(at(i) + 8);
    }

    @Override
    public long position(int i) {
        return map.getLong(at(i) + 16);
    }

    @Override
    public int length(int i) {
        return map.getInt(at(i) + 24);
    }

    @Override
    public int member(int i) {
        return map.getShort(at(i) + 28) & 0xffff;
    }

    @Override
    public RecordType type(int i) {
        return BY_CODE[map.get(at(i) + 30) & 0xff];
    }

    @Override
    public int flags(int i) {
        return map.get(at(i) + 31) & 0xff;
    }
}
