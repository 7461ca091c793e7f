package dev.rewind.increments.replica;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.io.StableFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.zip.CRC32C;

/**
 * The secondary's full image of one member as of the replica's seq, with a CRC32C per
 * chunk. The image is a sparse file (all-zero chunks are holes); the checksum table
 * lives beside it and is replaced atomically. The table names the seq the image equals: at
 * each cut the transaction's forward increment is {@linkplain #apply applied} and the table
 * replaced with the new seq, the last step of the move. A crash before that step leaves the
 * old seq (and old checksums for the chunks being rewritten): the caller applies the same
 * increment again, which writes the same bytes and checksums those chunks anew.
 *
 * <pre>
 * &lt;member&gt;.crc
 *  0  8  magic "RWNDRCRC"
 *  8  4  version (2; version 1 had no seq and means seq 0)
 * 12  4  chunk size in bytes
 * 16  8  member size in bytes
 * 24  4  reserved (0)
 * 28  4  CRC32C of [0, 28)
 * 32  8  seq the image equals (version 2 only)
 * 40  4  CRC32C of [32, 40) (version 2 only)
 * 44  4n CRC32C of each chunk of the image, in order (the last chunk may be short; version 1: from 32)
 * </pre>
 */
public final class ReplicaImage implements AutoCloseable {
    static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'R', 'C', 'R', 'C'};
    static final int VERSION = 2;
    static final int HEADER_BYTES = 32;
    static final int SEQ_BYTES = 12;
    public static final int CHUNK_BYTES = 64 << 10;

    /** Where the bytes of a member come from when its replica is first made. */
    @FunctionalInterface
    public interface Source {
        void read(long offsetBytes, ByteBuffer dst) throws IOException;
    }

    private final Path dir;
    private final String member;
    private final Path imagePath;
    private final FileChannel image;
    private final long sizeBytes;
    private final int[] chunkCrcs;
    private volatile long seq;
    /** The chunk buffer of {@link #apply} and {@link #verify}, which hold this image's monitor. */
    private final ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES);
    /** Bumped by every {@link #apply}: a reader's kept chunk from before it is stale. */
    private volatile long generation;
    /**
     * Chunks whose checksum a read has checked since they were last written and within the last
     * {@link #RECHECK_NANOS}: a read of such a chunk reads just the bytes asked for. Random 4 KiB
     * reads of the past (a sandbox, a past export) would otherwise read and checksum 64 KiB each.
     */
    private final AtomicLongArray checked;
    private volatile long checkedSince = System.nanoTime();
    /** How long a checked chunk is trusted without checking it again. */
    static final long RECHECK_NANOS = 60_000_000_000L;
    /** Each reading thread's own chunk buffer and the checked chunk it holds, so that reads run side by side. */
    private final ThreadLocal<ReadChunk> readChunks = ThreadLocal.withInitial(ReadChunk::new);

    private static final class ReadChunk {
        final ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES);
        int index = -1;
        long generation = -1;
    }
    private static final int ZERO_CHUNK_CRC = zeroChunkCrc();

    private static int zeroChunkCrc() {
        CRC32C crc = new CRC32C();
        crc.update(new byte[CHUNK_BYTES]);
        return (int) crc.getValue();
    }

    private ReplicaImage(Path dir, String member, Path imagePath, FileChannel image, long sizeBytes, int[] chunkCrcs, long seq) {
        this.dir = dir;
        this.member = member;
        this.seq = seq;
        this.imagePath = imagePath;
        this.image = image;
        this.sizeBytes = sizeBytes;
        this.chunkCrcs = chunkCrcs;
        this.checked = new AtomicLongArray((chunkCrcs.length + 63) / 64);
    }

    static Path imagePath(Path dir, String member) {
        return dir.resolve(member + ".img");
    }

    static Path crcPath(Path dir, String member) {
        return dir.resolve(member + ".crc");
    }

    /** Copies {@code source} into a new replica (holes where the source is zero) and checksums every chunk. */
    public static ReplicaImage create(Path dir, String member, long sizeBytes, Source source, ProgressListener progress) throws IOException {
        dev.rewind.volumeset.io.DurableFiles.createDirectories(dir);
        Path img = imagePath(dir, member);
        int chunks = (int) ((sizeBytes + CHUNK_BYTES - 1) / CHUNK_BYTES);
        int[] crcs = new int[chunks];
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK_BYTES);
        try (FileChannel c = StableFileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < chunks; i++) {
                long offset = (long) i * CHUNK_BYTES;
                int len = (int) Math.min(CHUNK_BYTES, sizeBytes - offset);
                buf.clear().limit(len);
                source.read(offset, buf);
                buf.flip();
                CRC32C crc = new CRC32C();
                crc.update(buf.duplicate());
                crcs[i] = (int) crc.getValue();
                if (!isZero(buf)) {
                    while (buf.hasRemaining()) {
                        c.write(buf, offset + buf.position());
                    }
                }
                progress.advanced(len);
            }
            if (c.size() < sizeBytes) {
                c.write(ByteBuffer.allocate(1), sizeBytes - 1);
            }
            c.force(true);
        }
        writeCrcTable(dir, member, sizeBytes, crcs, 0);
        return open(dir, member, sizeBytes);
    }

    private static void writeCrcTable(Path dir, String member, long sizeBytes, int[] crcs, long seq) throws IOException {
        ByteBuffer t = ByteBuffer.allocate(HEADER_BYTES + SEQ_BYTES + 4 * crcs.length).order(ByteOrder.BIG_ENDIAN);
        t.put(MAGIC).putInt(VERSION).putInt(CHUNK_BYTES).putLong(sizeBytes).putInt(0);
        CRC32C crc = new CRC32C();
        crc.update(t.array(), 0, 28);
        t.putInt((int) crc.getValue());
        t.putLong(seq);
        crc.reset();
        crc.update(t.array(), 32, 8);
        t.putInt((int) crc.getValue());
        for (int v : crcs) {
            t.putInt(v);
        }
        t.flip();
        Path tmp = dir.resolve(member + ".crc.tmp");
        try (FileChannel c = StableFileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            while (t.hasRemaining()) {
                c.write(t);
            }
            c.force(true);
        }
        Files.move(tmp, crcPath(dir, member), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = StableFileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    public static ReplicaImage open(Path dir, String member, long sizeBytes) throws IOException {
        Path crcFile = crcPath(dir, member);
        if (!Files.exists(crcFile)) {
            throw new CorruptDataException(crcFile, 0, "replica checksum table is missing");
        }
        ByteBuffer t = ByteBuffer.wrap(Files.readAllBytes(crcFile)).order(ByteOrder.BIG_ENDIAN);
        byte[] magic = new byte[8];
        if (t.remaining() < HEADER_BYTES) {
            throw new CorruptDataException(crcFile, 0, "replica checksum table is cut short");
        }
        t.get(0, magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new CorruptDataException(crcFile, 0, "not a replica checksum table (bad magic)");
        }
        CRC32C crc = new CRC32C();
        crc.update(t.array(), 0, 28);
        if (t.getInt(28) != (int) crc.getValue()) {
            throw CorruptDataException.checksum(crcFile, 28, t.getInt(28), (int) crc.getValue());
        }
        int version = t.getInt(8);
        if ((version != 1 && version != VERSION) || t.getInt(12) != CHUNK_BYTES || t.getLong(16) != sizeBytes) {
            throw new CorruptDataException(crcFile, 8, "replica table is version " + version + " for size " + t.getLong(16)
                    + " and chunk " + t.getInt(12) + ", expected " + sizeBytes + " and " + CHUNK_BYTES);
        }
        long seq = 0;
        int tableStart = HEADER_BYTES;
        if (version == VERSION) {
            if (t.capacity() < HEADER_BYTES + SEQ_BYTES) {
                throw new CorruptDataException(crcFile, HEADER_BYTES, "replica checksum table is cut short");
            }
            crc.reset();
            crc.update(t.array(), HEADER_BYTES, 8);
            if (t.getInt(HEADER_BYTES + 8) != (int) crc.getValue()) {
                throw CorruptDataException.checksum(crcFile, HEADER_BYTES, t.getInt(HEADER_BYTES + 8), (int) crc.getValue());
            }
            seq = t.getLong(HEADER_BYTES);
            tableStart += SEQ_BYTES;
        }
        int chunks = (int) ((sizeBytes + CHUNK_BYTES - 1) / CHUNK_BYTES);
        if (t.capacity() != tableStart + 4 * chunks) {
            throw new CorruptDataException(crcFile, tableStart, "replica table has the wrong number of chunks");
        }
        int[] crcs = new int[chunks];
        for (int i = 0; i < chunks; i++) {
            crcs[i] = t.getInt(tableStart + 4 * i);
        }
        Path img = imagePath(dir, member);
        return new ReplicaImage(dir, member, img, StableFileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE), sizeBytes,
                crcs, seq);
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    /** The seq of the set this image equals. */
    public long seq() {
        return seq;
    }

    /** Pieces of new content for the image, in ascending offset order (data null: zeros). */
    @FunctionalInterface
    public interface Pieces {
        void forEach(PieceSink sink) throws IOException;
    }

    /** One piece of new content; {@code data} holds exactly {@code length} bytes, or is null for zeros. */
    @FunctionalInterface
    public interface PieceSink {
        void accept(long offsetBytes, int length, ByteBuffer data) throws IOException;
    }

    /**
     * Moves the image to {@code newSeq}: every piece is written over it, chunk by chunk (each
     * touched chunk is read, patched and checksummed anew; only the span of it that changed is
     * written back, so scattered small writes do not cost whole chunks), the image is forced,
     * and then the checksum table is replaced with the new seq. The touched chunks are not
     * checked before patching: a cut has just read and checked each of them for its backward
     * increment, and a move cut short by a crash may have rewritten some of them already (the
     * same pieces are then written again).
     */
    public synchronized void apply(long newSeq, Pieces pieces) throws IOException {
        int[] newCrcs = chunkCrcs.clone();
        int[] current = {-1};
        boolean[] dirty = {false};
        int[] span = {Integer.MAX_VALUE, 0}; // the changed part of the current chunk
        pieces.forEach((offset, length, data) -> {
            if (offset < 0 || offset + length > sizeBytes) {
                throw new IllegalArgumentException("piece " + offset + "+" + length + " is outside the replica of " + sizeBytes + " bytes");
            }
            long pos = offset;
            long end = offset + length;
            while (pos < end) {
                int i = (int) (pos / CHUNK_BYTES);
                long chunkStart = (long) i * CHUNK_BYTES;
                int chunkLen = (int) Math.min(CHUNK_BYTES, sizeBytes - chunkStart);
                if (current[0] != i) {
                    if (dirty[0]) {
                        newCrcs[current[0]] = writeChunk(current[0], span[0], span[1]);
                    }
                    span[0] = Integer.MAX_VALUE;
                    span[1] = 0;
                    readChunk(chunkStart, chunkLen);
                    current[0] = i;
                    dirty[0] = false;
                }
                int from = (int) (pos - chunkStart);
                int n = (int) Math.min(end - pos, chunkLen - from);
                if (data == null) {
                    java.util.Arrays.fill(chunk.array(), from, from + n, (byte) 0);
                } else {
                    data.get(data.position() + (int) (pos - offset), chunk.array(), from, n);
                }
                dirty[0] = true;
                span[0] = Math.min(span[0], from);
                span[1] = Math.max(span[1], from + n);
                pos += n;
            }
        });
        if (dirty[0]) {
            newCrcs[current[0]] = writeChunk(current[0], span[0], span[1]);
        }
        image.force(true);
        writeCrcTable(dir, member, sizeBytes, newCrcs, newSeq);
        System.arraycopy(newCrcs, 0, chunkCrcs, 0, newCrcs.length);
        generation++;
        seq = newSeq;
    }

    /** Reads the chunk at {@code chunkStart} into the chunk buffer, unchecked (past the file's end reads as zeros). */
    private void readChunk(long chunkStart, int chunkLen) throws IOException {
        readChunk(chunk, chunkStart, chunkLen);
    }

    private void readChunk(ByteBuffer into, long chunkStart, int chunkLen) throws IOException {
        into.clear().limit(chunkLen);
        readFully(into, chunkStart);
    }

    /** Fills {@code into} (position to limit) from {@code at}; past the file's end reads as zeros. */
    private void readFully(ByteBuffer into, long at) throws IOException {
        long base = at - into.position();
        while (into.hasRemaining()) {
            if (image.read(into, base + into.position()) < 0) {
                while (into.hasRemaining()) {
                    into.put((byte) 0);
                }
            }
        }
    }

    /** Writes bytes {@code [from, to)} of the patched chunk {@code i} and returns the CRC32C of the whole chunk. */
    private int writeChunk(int i, int from, int to) throws IOException {
        forgetChecked(i);
        long chunkStart = (long) i * CHUNK_BYTES;
        int chunkLen = (int) Math.min(CHUNK_BYTES, sizeBytes - chunkStart);
        CRC32C crc = new CRC32C();
        crc.update(chunk.array(), 0, chunkLen);
        ByteBuffer b = ByteBuffer.wrap(chunk.array(), from, to - from);
        while (b.hasRemaining()) {
            image.write(b, chunkStart + b.position());
        }
        return (int) crc.getValue();
    }

    /**
     * Reads {@code dst.remaining()} bytes at {@code offsetBytes}, checking the CRC of every
     * chunk it touches. A chunk whose checksum is that of all zeros is not read at all (it is a
     * hole); each thread keeps the last chunk it read, since restores read neighbouring ranges
     * in order. Reads on several threads run side by side; the caller keeps {@link #apply} from
     * running meanwhile (the set's history lock).
     */
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        ReadChunk kept = readChunks.get();
        if (System.nanoTime() - checkedSince > RECHECK_NANOS) {
            forgetAllChecked();
        }
        long pos = offsetBytes;
        while (dst.hasRemaining()) {
            int i = (int) (pos / CHUNK_BYTES);
            long chunkStart = (long) i * CHUNK_BYTES;
            int chunkLen = (int) Math.min(CHUNK_BYTES, sizeBytes - chunkStart);
            int from = (int) (pos - chunkStart);
            int n = Math.min(dst.remaining(), chunkLen - from);
            long g = generation;
            if (chunkCrcs[i] == zeroCrc(chunkLen)) {
                for (int k = 0; k < n; k++) {
                    dst.put((byte) 0);
                }
            } else if (kept.index == i && kept.generation == g) {
                dst.put(kept.buffer.array(), from, n);
            } else if (isChecked(i)) {
                ByteBuffer part = dst.duplicate().limit(dst.position() + n);
                readFully(part, pos);
                dst.position(dst.position() + n);
            } else {
                kept.index = -1;
                readChunk(kept.buffer, chunkStart, chunkLen);
                check(i, chunkStart, kept.buffer.array(), chunkLen);
                markChecked(i);
                kept.index = i;
                kept.generation = g;
                dst.put(kept.buffer.array(), from, n);
            }
            pos += n;
        }
    }

    private boolean isChecked(int i) {
        return (checked.get(i >>> 6) & (1L << i)) != 0;
    }

    private void markChecked(int i) {
        checked.getAndUpdate(i >>> 6, w -> w | (1L << i));
    }

    private void forgetChecked(int i) {
        checked.getAndUpdate(i >>> 6, w -> w & ~(1L << i));
    }

    /** Takes no chunk as checked any more, as when {@link #RECHECK_NANOS} has passed. */
    void forgetAllChecked() {
        checkedSince = System.nanoTime();
        generation++; // and every reader's kept chunk; a lost increment among racing readers changes it all the same
        for (int w = 0; w < checked.length(); w++) {
            checked.set(w, 0);
        }
    }

    /** Reads every chunk, holes included, and checks its checksum. */
    public synchronized void verify() throws IOException {
        for (int i = 0; i < chunkCrcs.length; i++) {
            long chunkStart = (long) i * CHUNK_BYTES;
            loadChunk(i, chunkStart, (int) Math.min(CHUNK_BYTES, sizeBytes - chunkStart));
        }
    }

    private void loadChunk(int i, long chunkStart, int chunkLen) throws IOException {
        readChunk(chunkStart, chunkLen);
        check(i, chunkStart, chunk.array(), chunkLen);
    }

    /** Refuses chunk {@code i} read into {@code bytes} unless its CRC32C is the table's. */
    private void check(int i, long chunkStart, byte[] bytes, int chunkLen) throws CorruptDataException {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, chunkLen);
        if ((int) crc.getValue() != chunkCrcs[i]) {
            throw CorruptDataException.checksum(imagePath, chunkStart, chunkCrcs[i], (int) crc.getValue());
        }
    }

    private static final byte[] ZEROS = new byte[CHUNK_BYTES];

    private static int zeroCrc(int length) {
        if (length == CHUNK_BYTES) {
            return ZERO_CHUNK_CRC;
        }
        CRC32C crc = new CRC32C();
        crc.update(ZEROS, 0, length);
        return (int) crc.getValue();
    }

    /** Whether the buffer's remaining bytes are all zero. */
    public static boolean isZero(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        while (d.remaining() >= 8) {
            if (d.getLong() != 0) {
                return false;
            }
        }
        while (d.hasRemaining()) {
            if (d.get() != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        image.close();
    }
}
