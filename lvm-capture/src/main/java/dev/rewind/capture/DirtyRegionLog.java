package dev.rewind.capture;

import dev.rewind.volumeset.ByteRangeSet;
import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.io.StableFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A persistent bitmap of regions that may differ between a member's primary and what
 * the journal says it holds. A region's bit is made durable before the primary is
 * written; it is cleared only after the primary has been forced past its last write.
 *
 * <pre>
 * drl file
 *    0  8  magic "RWNDDRL1"
 *    8  4  version (1)
 *   12  4  header length (4096)
 *   16  8  region size in bytes
 *   24  4  member count (at most 500)
 *   28  4  reserved (0)
 *   32  8n region count of each member
 * 4092  4  CRC32C of [0, 4092)
 * 4096     bitmaps, one per member in order, each ceil(regions / 8) bytes; bit i = region i
 * </pre>
 */
public final class DirtyRegionLog implements AutoCloseable {
    static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'D', 'R', 'L', '1'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 4096;
    static final int MAX_MEMBERS = 500;
    /** Regions marked together when one of them first becomes dirty (a multiple of 8). */
    static final int GROUP_REGIONS = 64;

    private final Path path;
    private final FileChannel channel;
    private final long regionSizeBytes;
    private final long[] memberSizes;
    private final long[] bitmapOffsets;
    private final byte[][] bits;
    private final long[][] lastWriteSeq;

    private DirtyRegionLog(Path path, FileChannel channel, long regionSizeBytes, long[] memberSizes, byte[][] bits) {
        this.path = path;
        this.channel = channel;
        this.regionSizeBytes = regionSizeBytes;
        this.memberSizes = memberSizes;
        this.bits = bits;
        this.bitmapOffsets = new long[memberSizes.length];
        this.lastWriteSeq = new long[memberSizes.length][];
        long offset = HEADER_BYTES;
        for (int m = 0; m < memberSizes.length; m++) {
            bitmapOffsets[m] = offset;
            offset += bits[m].length;
            lastWriteSeq[m] = new long[(int) regions(memberSizes[m], regionSizeBytes)];
        }
    }

    private static long regions(long sizeBytes, long regionSizeBytes) {
        return (sizeBytes + regionSizeBytes - 1) / regionSizeBytes;
    }

    /** Creates an all-clean log. */
    public static DirtyRegionLog create(Path path, long regionSizeBytes, long[] memberSizes) throws IOException {
        if (memberSizes.length > MAX_MEMBERS) {
            throw new IllegalArgumentException("at most " + MAX_MEMBERS + " members");
        }
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        h.put(MAGIC).putInt(VERSION).putInt(HEADER_BYTES).putLong(regionSizeBytes).putInt(memberSizes.length).putInt(0);
        for (long size : memberSizes) {
            h.putLong(regions(size, regionSizeBytes));
        }
        CRC32C crc = new CRC32C();
        crc.update(h.array(), 0, HEADER_BYTES - 4);
        h.putInt(HEADER_BYTES - 4, (int) crc.getValue());
        h.clear();
        try (FileChannel c = StableFileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (h.hasRemaining()) {
                c.write(h, h.position());
            }
            long total = HEADER_BYTES;
            for (long size : memberSizes) {
                total += (regions(size, regionSizeBytes) + 7) / 8;
            }
            c.write(ByteBuffer.allocate(1), total - 1);
            c.force(true);
        }
        return open(path, regionSizeBytes, memberSizes);
    }

    public static DirtyRegionLog open(Path path, long regionSizeBytes, long[] memberSizes) throws IOException {
        if (!Files.exists(path)) {
            throw new CorruptDataException(path, 0, "dirty region log is missing");
        }
        FileChannel c = StableFileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
            while (h.hasRemaining() && c.read(h, h.position()) > 0) {
                // fill
            }
            byte[] magic = new byte[8];
            h.get(0, magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new CorruptDataException(path, 0, "not a dirty region log (bad magic)");
            }
            CRC32C crc = new CRC32C();
            crc.update(h.array(), 0, HEADER_BYTES - 4);
            if (h.getInt(HEADER_BYTES - 4) != (int) crc.getValue()) {
                throw CorruptDataException.checksum(path, HEADER_BYTES - 4, h.getInt(HEADER_BYTES - 4), (int) crc.getValue());
            }
            if (h.getInt(8) != VERSION || h.getLong(16) != regionSizeBytes || h.getInt(24) != memberSizes.length) {
                throw new CorruptDataException(path, 8, "dirty region log does not match the set (region size or member count)");
            }
            byte[][] bits = new byte[memberSizes.length][];
            long offset = HEADER_BYTES;
            for (int m = 0; m < memberSizes.length; m++) {
                long regions = regions(memberSizes[m], regionSizeBytes);
                if (h.getLong(32 + 8 * m) != regions) {
                    throw new CorruptDataException(path, 32 + 8L * m, "dirty region log has the wrong region count for member " + m);
                }
                bits[m] = new byte[(int) ((regions + 7) / 8)];
                ByteBuffer b = ByteBuffer.wrap(bits[m]);
                while (b.hasRemaining()) {
                    if (c.read(b, offset + b.position()) < 0) {
                        throw new CorruptDataException(path, offset, "dirty region log is cut short");
                    }
                }
                offset += bits[m].length;
            }
            return new DirtyRegionLog(path, c, regionSizeBytes, memberSizes, bits);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public long regionSizeBytes() {
        return regionSizeBytes;
    }

    /**
     * Marks the regions of {@code [start, end)} dirty as of {@code seq} and, if any bit was
     * newly set, forces the log before returning. A newly needed bit brings the rest of its
     * group of {@link #GROUP_REGIONS} regions with it in the same force, so a sequential or
     * spread-out workload pays one force per group rather than one per region. Callers need
     * not come in seq order: a region keeps the highest seq marked.
     */
    public synchronized void markDirty(int member, long startBytes, long endBytes, long seq) throws IOException {
        if (endBytes <= startBytes) {
            return;
        }
        int first = (int) (startBytes / regionSizeBytes);
        int last = (int) ((endBytes - 1) / regionSizeBytes);
        boolean changed = false;
        byte[] b = bits[member];
        long[] lastWrite = lastWriteSeq[member];
        for (int r = first; r <= last; r++) {
            lastWrite[r] = Math.max(lastWrite[r], seq); // writers mark outside the sequencer, not always in seq order
            if ((b[r >>> 3] & (1 << (r & 7))) == 0) {
                int groupStart = r & ~(GROUP_REGIONS - 1);
                int groupEnd = Math.min(lastWrite.length, groupStart + GROUP_REGIONS);
                for (int g = groupStart; g < groupEnd; g++) {
                    b[g >>> 3] |= (byte) (1 << (g & 7));
                }
                writeBytes(member, groupStart >>> 3, ((groupEnd - 1) >>> 3) + 1);
                changed = true;
            }
        }
        if (changed) {
            channel.force(false);
        }
    }

    private void writeBytes(int member, int fromByte, int toByte) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bits[member], fromByte, toByte - fromByte);
        long position = bitmapOffsets[member] + fromByte;
        while (buf.hasRemaining()) {
            channel.write(buf, position + buf.position() - fromByte);
        }
    }

    /** Clears every region whose last write is at or before {@code seq}: the primary was forced past it. */
    public synchronized int clearWrittenAtOrBefore(long seq) throws IOException {
        int cleared = 0;
        for (int m = 0; m < bits.length; m++) {
            byte[] b = bits[m];
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    continue;
                }
                byte before = b[i];
                for (int bit = 0; bit < 8; bit++) {
                    int r = i * 8 + bit;
                    if ((b[i] & (1 << bit)) != 0 && lastWriteSeq[m][r] <= seq) {
                        b[i] &= (byte) ~(1 << bit);
                        cleared++;
                    }
                }
                if (b[i] != before) {
                    writeBytes(m, i, i + 1);
                }
            }
        }
        if (cleared > 0) {
            channel.force(false);
        }
        return cleared;
    }

    /** Every dirty region of a member as byte ranges, clipped to the member's size. */
    public synchronized ByteRangeSet dirtyRanges(int member) {
        ByteRangeSet out = new ByteRangeSet();
        byte[] b = bits[member];
        for (int r = 0; r < b.length * 8; r++) {
            if ((b[r >>> 3] & (1 << (r & 7))) != 0) {
                long start = r * regionSizeBytes;
                out.add(start, Math.min(memberSizes[member], start + regionSizeBytes));
            }
        }
        return out;
    }

    public synchronized int dirtyRegionCount() {
        int n = 0;
        for (byte[] b : bits) {
            for (byte x : b) {
                n += Integer.bitCount(x & 0xff);
            }
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
