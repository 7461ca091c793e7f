package dev.rewind.increments.increment;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.io.DurableFiles;
import dev.rewind.volumeset.io.StableFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * One increment (forward or backward) of one transaction: the file format, its reader, and
 * (in {@link Writer}) its writer. The extents' bytes form one logical <em>stream</em>, in
 * extent order (zero extents take no room in it), cut into chunks of {@link #CHUNK_BYTES}
 * raw bytes (the last one short), each compressed on its own with the header's codec, or
 * stored raw when it does not get smaller.
 *
 * <pre>
 * file:  header | chunk 0 | chunk 1 | ... | index | footer
 *
 * header (80 bytes)                          chunk (32-byte header, then the stored bytes)
 *  0  8  magic "RWNDINCR"                      0  4  magic "RWIC"
 *  8  4  version (1)                           4  4  chunk number
 * 12  4  header length (80)                    8  4  stored length (&le; raw length)
 * 16 16  set UUID                             12  4  raw length (CHUNK_BYTES, the last one less)
 * 32  8  transaction id                       16  1  flags (1 = stored raw)
 * 40  8  first seq                            17  3  reserved (0)
 * 48  8  last seq                             20  4  CRC32C of the stored bytes
 * 56  4  member count                         24  4  CRC32C of the raw bytes
 * 60  1  direction (1 forward, 2 backward)    28  4  CRC32C of [0, 28)
 * 61  1  codec (0 none, 1 zstd, 2 lz4)        32  .  stored bytes
 * 62  2  reserved (0)
 * 64  4  chunk raw size (1 MiB)
 * 68  8  reserved (0)
 * 76  4  CRC32C of [0, 76)
 *
 * index (32 + 32 x extents + 32 x chunks bytes)
 *  0  4  magic "RWNX"          extent entry (32)                  chunk entry (32)
 *  4  4  extent count           0  4  member                       0  8  file offset of the chunk
 *  8  4  chunk count            4  4  flags (1 = zeros)            8  4  stored length
 * 12  4  reserved (0)           8  8  offset in bytes             12  4  raw length
 * 16  8  stream length         16  8  length in bytes             16  1  flags (1 = stored raw)
 * 24  8  reserved (0)          24  8  position in the stream      17  3  reserved (0)
 *        then the extent entries, ascending (member, offset),     20  4  CRC32C of the stored bytes
 *        then the chunk entries, back to back from offset 80      24  4  CRC32C of the raw bytes
 *                                                                 28  4  reserved (0)
 * footer (32 bytes, the last of the file)
 *  0  8  index offset
 *  8  8  index length
 * 16  4  CRC32C of the index
 * 20  4  CRC32C of [0, 20)
 * 24  8  magic "RWNDIEND"
 * </pre>
 * Integers are big-endian. {@link #open} checks the header, footer and index (CRCs and
 * structure); every chunk read checks the chunk header against the index, the CRC32C of the
 * stored bytes before decompressing and of the raw bytes after. Corruption is a
 * {@link CorruptDataException} naming the file and the offset of the header, footer, index
 * entry or chunk at fault. A writer builds the file under a temporary name
 * ({@link #isTemporary}) and renames it into place only when it is complete and forced, so an
 * increment is either whole or absent.
 *
 * <p>A reader is thread-safe: reads are positional, and the one decompressed chunk it keeps
 * is swapped under a lock.
 */
public final class IncrementFile implements AutoCloseable {
    static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'I', 'N', 'C', 'R'};
    static final byte[] FOOTER_MAGIC = {'R', 'W', 'N', 'D', 'I', 'E', 'N', 'D'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 80;
    static final int HEADER_CRC_AT = 76;
    static final int CHUNK_MAGIC = 0x52574943; // "RWIC"
    static final int CHUNK_HEADER_BYTES = 32;
    static final int CHUNK_HEADER_CRC_AT = 28;
    static final int FOOTER_BYTES = 32;
    static final int FOOTER_CRC_AT = 20;
    /** Raw bytes per chunk, and the largest piece {@link #forEach} hands out. */
    public static final int CHUNK_BYTES = 1 << 20;
    /** What a writer's temporary file name ends with. */
    static final String TEMP_SUFFIX = ".increment-partial";

    /** Receives the extents of an increment in order, in pieces of at most {@link #CHUNK_BYTES}. */
    @FunctionalInterface
    public interface ExtentConsumer {
        /**
         * One piece of an extent: {@code dataOrNull} holds its {@code length} bytes (read-only,
         * valid only during the call), or is null for a piece of a zero extent.
         */
        void accept(int member, long offsetBytes, int length, ByteBuffer dataOrNull) throws IOException;
    }

    /** A finished increment: its file, its size on disk, the raw bytes it holds and its extents. */
    public record IncrementSummary(Path file, long storedBytes, long rawBytes, int extentCount) {
    }

    private final Path path;
    private final FileChannel channel;
    private final IncrementHeader header;
    private final IncrementIndex index;
    private final long sizeBytes;
    private final ChunkReader chunks;

    private IncrementFile(Path path, FileChannel channel, IncrementHeader header, IncrementIndex index, long sizeBytes) {
        this.path = path;
        this.channel = channel;
        this.header = header;
        this.index = index;
        this.sizeBytes = sizeBytes;
        this.chunks = new ChunkReader(path, channel, index, header.codec());
    }

    /** Starts a new increment at {@code file}, which must not exist yet; nothing appears there until {@link Writer#finish()}. */
    public static Writer create(Path file, IncrementHeader header) throws IOException {
        return new Writer(file, header);
    }

    /** Whether this is the temporary file of a writer that never finished (safe to delete when no writer runs). */
    public static boolean isTemporary(Path file) {
        Path name = file.getFileName();
        return name != null && name.toString().endsWith(TEMP_SUFFIX);
    }

    /** Opens an increment, checking its header, footer and index. */
    public static IncrementFile open(Path file) throws IOException {
        FileChannel c = StableFileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = c.size();
            if (size < HEADER_BYTES + FOOTER_BYTES) {
                throw new CorruptDataException(file, 0, "an increment file of " + size + " bytes is too short to hold a header and a footer");
            }
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
            readFully(c, h, 0);
            IncrementHeader header = IncrementLayout.decodeHeader(file, h.flip());
            long footerAt = size - FOOTER_BYTES;
            ByteBuffer f = ByteBuffer.allocate(FOOTER_BYTES).order(ByteOrder.BIG_ENDIAN);
            readFully(c, f, footerAt);
            IncrementLayout.IndexLocation where = IncrementLayout.decodeFooter(file, f.flip(), footerAt);
            long indexAt = where.offsetBytes();
            ByteBuffer ib = ByteBuffer.allocate(where.lengthBytes()).order(ByteOrder.BIG_ENDIAN);
            readFully(c, ib, indexAt);
            int crc = crc(ib.array(), 0, ib.capacity());
            if (crc != where.crc()) {
                throw CorruptDataException.checksum(file, indexAt, where.crc(), crc);
            }
            IncrementIndex index = IncrementIndex.decode(file, indexAt, ib.flip(), header.memberCount(), HEADER_BYTES);
            return new IncrementFile(file, c, header, index, size);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public IncrementHeader header() {
        return header;
    }

    /** The extents, ascending (member, offset). */
    public List<IncrementExtent> extents() {
        return index.extents();
    }

    /** The size of the file on disk. */
    public long storedBytes() {
        return sizeBytes;
    }

    /** The bytes of the extents that are not zeros. */
    public long rawBytes() {
        return index.streamBytes;
    }

    /**
     * Fills {@code dst} with the member's bytes {@code [offsetBytes, offsetBytes + dst.remaining())}.
     * The range must lie inside this increment's extents; otherwise nothing is read and an
     * {@link IllegalArgumentException} says where it leaves them.
     */
    public void read(int member, long offsetBytes, ByteBuffer dst) throws IOException {
        long end = offsetBytes + dst.remaining();
        int first = index.find(member, offsetBytes);
        int e = first;
        for (long pos = offsetBytes; pos < end; e++) {
            if (e < 0 || e >= index.extentCount || index.members[e] != member || (e != first && index.offsets[e] != pos)) {
                throw new IllegalArgumentException("member " + member + " [" + offsetBytes + ", " + end + ") is not inside increment " + path
                        + ": byte " + pos + " is not held");
            }
            pos = index.offsets[e] + index.lengths[e];
        }
        long pos = offsetBytes;
        for (e = first; pos < end; e++) {
            long n = Math.min(end, index.offsets[e] + index.lengths[e]) - pos;
            if (index.zeros[e]) {
                putZeros(dst, n);
            } else {
                copyStream(index.streamPositions[e] + (pos - index.offsets[e]), dst, n);
            }
            pos += n;
        }
    }

    /**
     * Hands every extent in order to {@code consumer}, in pieces of at most {@link #CHUNK_BYTES}
     * that never cross a chunk, decompressing each chunk once.
     */
    public void forEach(ExtentConsumer consumer) throws IOException {
        byte[] stored = ChunkBuffers.take();
        byte[] raw = ChunkBuffers.take();
        try {
            int loaded = -1;
            for (int e = 0; e < index.extentCount; e++) {
                int member = index.members[e];
                long offset = index.offsets[e];
                long remaining = index.lengths[e];
                long stream = index.streamPositions[e];
                while (remaining > 0) {
                    int n;
                    if (index.zeros[e]) {
                        n = (int) Math.min(remaining, CHUNK_BYTES);
                        consumer.accept(member, offset, n, null);
                    } else {
                        int chunk = (int) (stream / CHUNK_BYTES);
                        if (chunk != loaded) {
                            chunks.load(chunk, stored, raw);
                            loaded = chunk;
                        }
                        int within = (int) (stream % CHUNK_BYTES);
                        n = (int) Math.min(remaining, index.rawLengths[chunk] - within);
                        consumer.accept(member, offset, n, ByteBuffer.wrap(raw, within, n).slice().asReadOnlyBuffer());
                        stream += n;
                    }
                    offset += n;
                    remaining -= n;
                }
            }
        } finally {
            ChunkBuffers.give(stored);
            ChunkBuffers.give(raw);
        }
    }

    /** Reads every chunk and checks its header, its stored bytes and its decompressed bytes. */
    public void verify() throws IOException {
        byte[] stored = ChunkBuffers.take();
        byte[] raw = ChunkBuffers.take();
        try {
            for (int i = 0; i < index.chunkCount; i++) {
                chunks.load(i, stored, raw);
            }
        } finally {
            ChunkBuffers.give(stored);
            ChunkBuffers.give(raw);
        }
    }

    /** Lets go of the decompressed chunk kept for the next read (about a megabyte); reads go on working. */
    public void dropCache() {
        chunks.dropCache();
    }

    @Override
    public void close() throws IOException {
        chunks.close();
        channel.close();
    }

    private static final byte[] ZEROS = new byte[64 << 10];

    private static void putZeros(ByteBuffer dst, long n) {
        while (n > 0) {
            int k = (int) Math.min(n, ZEROS.length);
            dst.put(ZEROS, 0, k);
            n -= k;
        }
    }

    /** Copies {@code n} bytes of the stream from {@code stream} into dst, through the cached chunk. */
    private void copyStream(long stream, ByteBuffer dst, long n) throws IOException {
        while (n > 0) {
            int chunk = (int) (stream / CHUNK_BYTES);
            int within = (int) (stream % CHUNK_BYTES);
            int k = (int) Math.min(n, index.rawLengths[chunk] - within);
            chunks.copy(chunk, within, dst, k);
            stream += k;
            n -= k;
        }
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** Reads {@code b} (from position 0) fully from {@code at}. */
    static void readFully(FileChannel c, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            if (c.read(b, at + b.position()) < 0) {
                throw new IOException("unexpected end of file at " + (at + b.position()));
            }
        }
    }

    static void writeFully(FileChannel c, ByteBuffer b, long at) throws IOException {
        long start = at - b.position();
        while (b.hasRemaining()) {
            c.write(b, start + b.position());
        }
    }

    /**
     * Writes a new increment under a temporary name beside {@code file}. Extents come in
     * ascending (member, offset) order and apart; one that starts where the previous one ended,
     * of the same kind, is coalesced with it. {@link #finish()} makes the file appear, whole and
     * forced; {@link #close()} without it deletes the temporary file. After a failed write the
     * writer only closes.
     */
    public static final class Writer implements AutoCloseable {
        private final Path file;
        private final Path tmp;
        private final IncrementHeader header;
        private final FileChannel channel;
        private final IncrementIndex.Builder index = new IncrementIndex.Builder(64, 16);
        private byte[] raw = ChunkBuffers.take();
        private byte[] out = ChunkBuffers.take();
        private int rawFill;
        private long fileOffset = HEADER_BYTES;
        private IncrementSummary finished;
        private boolean failed;
        private boolean closed;

        private Writer(Path file, IncrementHeader header) throws IOException {
            this.file = file;
            this.header = header;
            this.tmp = file.resolveSibling(file.getFileName() + TEMP_SUFFIX);
            if (Files.exists(file)) {
                throw new FileAlreadyExistsException(file.toString(), null, "the increment already exists");
            }
            Files.deleteIfExists(tmp);
            FileChannel c = StableFileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            try {
                writeFully(c, IncrementLayout.encodeHeader(header), 0);
            } catch (IOException | RuntimeException e) {
                c.close();
                Files.deleteIfExists(tmp);
                throw e;
            }
            this.channel = c;
        }

        /** Adds member bytes {@code [offsetBytes, offsetBytes + data.remaining())}, consuming data. */
        public void add(int member, long offsetBytes, ByteBuffer data) throws IOException {
            int length = data.remaining();
            checkExtent(member, offsetBytes, length);
            index.addExtent(member, offsetBytes, length, false);
            try {
                while (data.hasRemaining()) {
                    int k = Math.min(data.remaining(), CHUNK_BYTES - rawFill);
                    data.get(raw, rawFill, k);
                    rawFill += k;
                    if (rawFill == CHUNK_BYTES) {
                        writeChunk();
                    }
                }
            } catch (IOException | RuntimeException e) {
                failed = true;
                throw e;
            }
        }

        /** Adds member bytes {@code [offsetBytes, offsetBytes + lengthBytes)} that read as zeros (nothing is stored). */
        public void addZeros(int member, long offsetBytes, long lengthBytes) throws IOException {
            checkExtent(member, offsetBytes, lengthBytes);
            index.addExtent(member, offsetBytes, lengthBytes, true);
        }

        private void checkWritable() {
            if (finished != null || closed || failed) {
                throw new IllegalStateException("increment " + file + " is " + (failed ? "failed" : finished != null ? "finished" : "closed") + "; start a new one");
            }
        }

        private void checkExtent(int member, long offsetBytes, long lengthBytes) {
            checkWritable();
            if (member < 0 || member >= header.memberCount()) {
                throw new IllegalArgumentException("member " + member + " is not one of the set's " + header.memberCount() + " members");
            }
            if (offsetBytes < 0 || lengthBytes <= 0 || offsetBytes + lengthBytes < offsetBytes) {
                throw new IllegalArgumentException("member " + member + " [" + offsetBytes + ", +" + lengthBytes + ") is not a range of bytes: give a non-negative offset and a positive length");
            }
        }

        /** Compresses and writes the raw bytes gathered so far as the next chunk. */
        private void writeChunk() throws IOException {
            int rawCrc = crc(raw, 0, rawFill);
            int stored = ChunkCodec.compress(header.codec(), raw, rawFill, out, CHUNK_HEADER_BYTES);
            byte flags = 0;
            if (stored < 0) {
                System.arraycopy(raw, 0, out, CHUNK_HEADER_BYTES, rawFill);
                stored = rawFill;
                flags = IncrementIndex.CHUNK_STORED_RAW;
            }
            int storedCrc = crc(out, CHUNK_HEADER_BYTES, stored);
            int number = index.chunkCount();
            IncrementLayout.chunkHeader(number, stored, rawFill, flags, storedCrc, rawCrc).get(out, 0, CHUNK_HEADER_BYTES);
            writeFully(channel, ByteBuffer.wrap(out, 0, CHUNK_HEADER_BYTES + stored), fileOffset);
            index.appendChunk(fileOffset, stored, rawFill, flags, storedCrc, rawCrc);
            fileOffset += CHUNK_HEADER_BYTES + stored;
            rawFill = 0;
        }

        /**
         * Writes the last chunk, the index and the footer, forces the file, renames it to its
         * name atomically and forces the directory. Returns the finished file's facts.
         */
        public IncrementSummary finish() throws IOException {
            if (finished != null) {
                return finished;
            }
            checkWritable();
            try {
                if (rawFill > 0) {
                    writeChunk();
                }
                IncrementIndex built = index.build();
                ByteBuffer encoded = built.encode();
                int indexLength = encoded.remaining();
                int indexCrc = crc(encoded.array(), 0, indexLength);
                writeFully(channel, encoded, fileOffset);
                writeFully(channel, IncrementLayout.encodeFooter(fileOffset, indexLength, indexCrc), fileOffset + indexLength);
                long size = fileOffset + indexLength + FOOTER_BYTES;
                channel.force(true);
                channel.close();
                if (Files.exists(file)) {
                    throw new FileAlreadyExistsException(file.toString(), null, "the increment appeared while it was being written");
                }
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                DurableFiles.forceDirectory(file.toAbsolutePath().getParent());
                finished = new IncrementSummary(file, size, built.streamBytes, built.extentCount);
                return finished;
            } catch (IOException | RuntimeException e) {
                failed = true;
                throw e;
            }
        }

        /** Without {@link #finish()}, deletes the temporary file: the increment never appears. */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            ChunkBuffers.give(raw);
            ChunkBuffers.give(out);
            raw = null;
            out = null;
            try {
                channel.close();
            } finally {
                if (finished == null) {
                    Files.deleteIfExists(tmp);
                }
            }
        }
    }
}
