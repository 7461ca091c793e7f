package dev.rewind.capture.sandbox;

import dev.rewind.volumeset.ByteRangeSet;
import dev.rewind.volumeset.io.StableFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * What a sandbox wrote to one member: the bytes, in a sparse data file at the member's own
 * offsets, and which ranges hold them, in an extent log. Ranges the sandbox never wrote read
 * from the past; ranges it trimmed or zeroed read as zeros without taking space.
 *
 * <pre>
 *   MEMBER.data   sparse; byte at offset X = the sandbox's byte X where the map says DATA
 *   MEMBER.map    "RWSBMAP1", then 32-byte records, appended:
 *                   int    type        1 = DATA (the range is in MEMBER.data), 2 = ZERO (reads as zeros)
 *                   int    reserved    0
 *                   long   offset
 *                   long   length
 *                   int    crc32c      of the 24 bytes above
 *                   int    reserved    0
 * </pre>
 *
 * Later records win over earlier ones. A write goes to the data file first and into the map
 * in memory; {@link #flush()} forces the data file, then appends the new records and forces the
 * map. So a record on disk never names bytes that are not: after a crash, the map is read up to
 * its first torn or bad record, and every write flushed before it reads back exactly; a write
 * not flushed reads as it was before or after it. The map is rewritten compactly at open when
 * it has grown to several times its ranges.
 */
final class SandboxOverlay implements AutoCloseable {
    static final String DATA_SUFFIX = ".data";
    static final String MAP_SUFFIX = ".map";
    private static final byte[] MAGIC = {'R', 'W', 'S', 'B', 'M', 'A', 'P', '1'};
    private static final int RECORD_BYTES = 32;
    private static final int DATA = 1;
    private static final int ZERO = 2;
    private static final int COMPACT_FACTOR = 4;

    /** Where a piece of a read comes from. */
    enum Source { PAST, DATA, ZERO }

    /** A piece of a read: bytes [start, end) come from {@code source}. */
    record Piece(long startBytes, long endBytes, Source source) {
    }

    private final Path dataFile;
    private final Path mapFile;
    private final FileChannel data;
    private final FileChannel map;
    private final ByteRangeSet written = new ByteRangeSet();
    private final ByteRangeSet zeroed = new ByteRangeSet();
    /** Records applied in memory and not yet appended to the map. */
    private final List<long[]> pending = new ArrayList<>();
    private final Object flushLock = new Object();
    private long mapSize;
    private long recordsOnDisk;

    private SandboxOverlay(Path dataFile, Path mapFile, FileChannel data, FileChannel map) {
        this.dataFile = dataFile;
        this.mapFile = mapFile;
        this.data = data;
        this.map = map;
    }

    /** Creates the empty files of a new overlay, forced (the caller forces the directory). */
    static void create(Path dir, String member) throws IOException {
        try (FileChannel d = StableFileChannel.open(dir.resolve(member + DATA_SUFFIX), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            d.force(true);
        }
        try (FileChannel m = StableFileChannel.open(dir.resolve(member + MAP_SUFFIX), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            m.write(ByteBuffer.wrap(MAGIC));
            m.force(true);
        }
    }

    /**
     * Opens an overlay made by {@link #create}, replaying its map; rewrites the map compactly
     * first when it has grown to several times its ranges.
     */
    static SandboxOverlay open(Path dir, String member) throws IOException {
        return open(dir, member, true);
    }

    private static SandboxOverlay open(Path dir, String member, boolean compact) throws IOException {
        Path dataFile = dir.resolve(member + DATA_SUFFIX);
        Path mapFile = dir.resolve(member + MAP_SUFFIX);
        FileChannel data = StableFileChannel.open(dataFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileChannel map = null;
        try {
            map = StableFileChannel.open(mapFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
            SandboxOverlay o = new SandboxOverlay(dataFile, mapFile, data, map);
            if (o.replay() && compact) {
                o.compact();
                o.close();
                return open(dir, member, false);
            }
            return o;
        } catch (IOException | RuntimeException e) {
            data.close();
            if (map != null) {
                map.close();
            }
            throw e;
        }
    }

    /** Reads the map into memory; true when it should be compacted. */
    private boolean replay() throws IOException {
        ByteBuffer magic = ByteBuffer.allocate(MAGIC.length);
        readFully(map, magic, 0);
        if (magic.position() < MAGIC.length || !java.util.Arrays.equals(magic.array(), MAGIC)) {
            throw new IOException(mapFile + " is not a sandbox overlay map (bad magic); drop the sandbox and create it again");
        }
        long size = map.size();
        long at = MAGIC.length;
        ByteBuffer chunk = ByteBuffer.allocate(RECORD_BYTES * 4096).order(ByteOrder.BIG_ENDIAN);
        CRC32C crc = new CRC32C();
        boolean torn = false;
        while (at < size && !torn) {
            chunk.clear();
            readFully(map, chunk, at);
            chunk.flip();
            while (chunk.remaining() >= RECORD_BYTES) {
                int start = chunk.position();
                int type = chunk.getInt();
                chunk.getInt();
                long offset = chunk.getLong();
                long length = chunk.getLong();
                int stored = chunk.getInt();
                chunk.getInt();
                crc.reset();
                crc.update(chunk.array(), start, 24);
                if ((int) crc.getValue() != stored || (type != DATA && type != ZERO) || offset < 0 || length <= 0) {
                    torn = true;
                    break;
                }
                apply(type, offset, length);
                at += RECORD_BYTES;
                recordsOnDisk++;
            }
            if (chunk.remaining() > 0 && chunk.remaining() < RECORD_BYTES) {
                torn = true;
            }
        }
        if (at < size) {
            map.truncate(at); // a torn tail: records a crash cut short were never flushed
            map.force(true);
        }
        mapSize = at;
        return recordsOnDisk > COMPACT_FACTOR * (long) (written.rangeCount() + zeroed.rangeCount()) + 1024;
    }

    /** Writes a map with one record per range beside the old one and renames it over it: the old map stays whole until then. */
    private void compact() throws IOException {
        Path tmp = mapFile.resolveSibling(mapFile.getFileName() + ".compact");
        try (FileChannel c = StableFileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            List<long[]> records = new ArrayList<>();
            for (ByteRangeSet.Range r : written) {
                records.add(new long[] {DATA, r.startBytes(), r.lengthBytes()});
            }
            for (ByteRangeSet.Range r : zeroed) {
                records.add(new long[] {ZERO, r.startBytes(), r.lengthBytes()});
            }
            c.write(ByteBuffer.wrap(MAGIC));
            writeRecords(c, records, MAGIC.length);
            c.force(true);
        }
        java.nio.file.Files.move(tmp, mapFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        dev.rewind.volumeset.io.DurableFiles.forceDirectory(mapFile.getParent());
    }

    private void apply(int type, long offset, long length) {
        if (type == DATA) {
            zeroed.remove(offset, offset + length);
            written.add(offset, offset + length);
        } else {
            written.remove(offset, offset + length);
            zeroed.add(offset, offset + length);
        }
    }

    /** Writes {@code src} at {@code offsetBytes}; durable after {@link #flush()}. */
    void write(long offsetBytes, ByteBuffer src) throws IOException {
        long length = src.remaining();
        long at = offsetBytes;
        while (src.hasRemaining()) {
            at += data.write(src, at);
        }
        record(DATA, offsetBytes, length);
    }

    /** Makes a range read as zeros; durable after {@link #flush()}. */
    void zero(long offsetBytes, long lengthBytes) {
        record(ZERO, offsetBytes, lengthBytes);
    }

    private void record(int type, long offset, long length) {
        synchronized (this) {
            apply(type, offset, length);
            pending.add(new long[] {type, offset, length});
        }
    }

    /** Where each piece of [offset, offset + length) comes from, in order. */
    synchronized List<Piece> pieces(long offsetBytes, long lengthBytes) {
        long end = offsetBytes + lengthBytes;
        if (!written.intersects(offsetBytes, end) && !zeroed.intersects(offsetBytes, end)) {
            return List.of(new Piece(offsetBytes, end, Source.PAST));
        }
        List<Piece> out = new ArrayList<>();
        List<ByteRangeSet.Range> w = written.intersection(offsetBytes, end);
        List<ByteRangeSet.Range> z = zeroed.intersection(offsetBytes, end);
        int wi = 0;
        int zi = 0;
        long cursor = offsetBytes;
        while (cursor < end) {
            ByteRangeSet.Range nw = wi < w.size() ? w.get(wi) : null;
            ByteRangeSet.Range nz = zi < z.size() ? z.get(zi) : null;
            ByteRangeSet.Range next = nw == null ? nz : nz == null ? nw : nw.startBytes() <= nz.startBytes() ? nw : nz;
            if (next == null) {
                out.add(new Piece(cursor, end, Source.PAST));
                break;
            }
            if (next.startBytes() > cursor) {
                out.add(new Piece(cursor, next.startBytes(), Source.PAST));
            }
            out.add(new Piece(Math.max(cursor, next.startBytes()), next.endBytes(), next == nw ? Source.DATA : Source.ZERO));
            cursor = next.endBytes();
            if (next == nw) {
                wi++;
            } else {
                zi++;
            }
        }
        return out;
    }

    /** Reads written bytes [offset, offset + dst.remaining()) from the data file. */
    void readData(long offsetBytes, ByteBuffer dst) throws IOException {
        long at = offsetBytes;
        while (dst.hasRemaining()) {
            int n = data.read(dst, at);
            if (n < 0) {
                throw new IOException("sandbox overlay " + dataFile + " is shorter than its map says (" + at + "); it was damaged");
            }
            at += n;
        }
    }

    /** Makes every write and zeroing so far durable: data first, then the map records naming it. */
    void flush() throws IOException {
        synchronized (flushLock) {
            List<long[]> records;
            synchronized (this) {
                if (pending.isEmpty()) {
                    return;
                }
                records = new ArrayList<>(pending);
                pending.clear();
            }
            try {
                data.force(false);
                writeRecords(map, records, mapSize);
                map.force(false);
                mapSize += (long) records.size() * RECORD_BYTES;
                recordsOnDisk += records.size();
            } catch (IOException | RuntimeException e) {
                synchronized (this) {
                    pending.addAll(0, records); // not durable: the next flush tries again
                }
                throw e;
            }
        }
    }

    private static void writeRecords(FileChannel channel, List<long[]> records, long at) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(Math.min(records.size(), 4096) * RECORD_BYTES).order(ByteOrder.BIG_ENDIAN);
        CRC32C crc = new CRC32C();
        long position = at;
        for (int i = 0; i < records.size(); i++) {
            long[] r = records.get(i);
            int start = buf.position();
            buf.putInt((int) r[0]).putInt(0).putLong(r[1]).putLong(r[2]);
            crc.reset();
            crc.update(buf.array(), start, 24);
            buf.putInt((int) crc.getValue()).putInt(0);
            if (!buf.hasRemaining() || i == records.size() - 1) {
                buf.flip();
                while (buf.hasRemaining()) {
                    position += channel.write(buf, position);
                }
                buf.clear();
            }
        }
    }

    /** The bytes the sandbox wrote to this member (zeroed ranges take none). */
    synchronized long writtenBytes() {
        return written.totalBytes();
    }

    private static void readFully(FileChannel channel, ByteBuffer dst, long at) throws IOException {
        long position = at;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                return;
            }
            position += n;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            data.close();
        } finally {
            map.close();
        }
    }
}
