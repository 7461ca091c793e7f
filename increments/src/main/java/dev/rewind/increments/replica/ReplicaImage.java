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
import java.util.zip.CRC32C;

/**
 * The secondary's full image of one member as of the replica's seq, with a CRC32C per
 * chunk. The image is a sparse file (all-zero chunks are holes); the checksum table
 * lives beside it and is replaced atomically.
 *
 * <pre>
 * &lt;member&gt;.crc
 *  0  8  magic "RWNDRCRC"
 *  8  4  version (1)
 * 12  4  chunk size in bytes
 * 16  8  member size in bytes
 * 24  4  reserved (0)
 * 28  4  CRC32C of [0, 28)
 * 32  4n CRC32C of each chunk of the image, in order (the last chunk may be short)
 * </pre>
 */
public final class ReplicaImage implements AutoCloseable {
    static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'R', 'C', 'R', 'C'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 32;
    public static final int CHUNK_BYTES = 64 << 10;

    /** Where the bytes of a member come from when its replica is first made. */
    @FunctionalInterface
    public interface Source {
        void read(long offsetBytes, ByteBuffer dst) throws IOException;
    }

    private final Path imagePath;
    private final FileChannel image;
    private final long sizeBytes;
    private final int[] chunkCrcs;
    private final ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES);
    private int cachedChunk = -1;
    private static final int ZERO_CHUNK_CRC = zeroChunkCrc();

    private static int zeroChunkCrc() {
        CRC32C crc = new CRC32C();
        crc.update(new byte[CHUNK_BYTES]);
        return (int) crc.getValue();
    }

    private ReplicaImage(Path imagePath, FileChannel image, long sizeBytes, int[] chunkCrcs) {
        this.imagePath = imagePath;
        this.image = image;
        this.sizeBytes = sizeBytes;
        this.chunkCrcs = chunkCrcs;
    }

    static Path imagePath(Path dir, String member) {
        return dir.resolve(member + ".img");
    }

    static Path crcPath(Path dir, String member) {
        return dir.resolve(member + ".crc");
    }

    /** Copies {@code source} into a new replica (holes where the source is zero) and checksums every chunk. */
    public static ReplicaImage create(Path dir, String member, long sizeBytes, Source source, ProgressListener progress) throws IOException {
        Files.createDirectories(dir);
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
        writeCrcTable(dir, member, sizeBytes, crcs);
        return open(dir, member, sizeBytes);
    }

    private static void writeCrcTable(Path dir, String member, long sizeBytes, int[] crcs) throws IOException {
        ByteBuffer t = ByteBuffer.allocate(HEADER_BYTES + 4 * crcs.length).order(ByteOrder.BIG_ENDIAN);
        t.put(MAGIC).putInt(VERSION).putInt(CHUNK_BYTES).putLong(sizeBytes).putInt(0);
        CRC32C crc = new CRC32C();
        crc.update(t.array(), 0, 28);
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
        if (t.getInt(8) != VERSION || t.getInt(12) != CHUNK_BYTES || t.getLong(16) != sizeBytes) {
            throw new CorruptDataException(crcFile, 8, "replica table is for size " + t.getLong(16) + " and chunk " + t.getInt(12)
                    + ", expected " + sizeBytes + " and " + CHUNK_BYTES);
        }
        int chunks = (int) ((sizeBytes + CHUNK_BYTES - 1) / CHUNK_BYTES);
        if (t.capacity() != HEADER_BYTES + 4 * chunks) {
            throw new CorruptDataException(crcFile, HEADER_BYTES, "replica table has the wrong number of chunks");
        }
        int[] crcs = new int[chunks];
        for (int i = 0; i < chunks; i++) {
            crcs[i] = t.getInt(HEADER_BYTES + 4 * i);
        }
        Path img = imagePath(dir, member);
        return new ReplicaImage(img, StableFileChannel.open(img, StandardOpenOption.READ), sizeBytes, crcs);
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    /**
     * Reads {@code dst.remaining()} bytes at {@code offsetBytes}, checking the CRC of every
     * chunk it touches. A chunk whose checksum is that of all zeros is not read at all (it is a
     * hole); the last chunk read is kept, since restores read neighbouring ranges in order.
     */
    public synchronized void read(long offsetBytes, ByteBuffer dst) throws IOException {
        long pos = offsetBytes;
        while (dst.hasRemaining()) {
            int i = (int) (pos / CHUNK_BYTES);
            long chunkStart = (long) i * CHUNK_BYTES;
            int chunkLen = (int) Math.min(CHUNK_BYTES, sizeBytes - chunkStart);
            int from = (int) (pos - chunkStart);
            int n = Math.min(dst.remaining(), chunkLen - from);
            if (chunkCrcs[i] == zeroCrc(chunkLen)) {
                for (int k = 0; k < n; k++) {
                    dst.put((byte) 0);
                }
            } else {
                if (cachedChunk != i) {
                    loadChunk(i, chunkStart, chunkLen);
                }
                dst.put(chunk.array(), from, n);
            }
            pos += n;
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
        cachedChunk = -1;
        chunk.clear().limit(chunkLen);
        while (chunk.hasRemaining()) {
            int n = image.read(chunk, chunkStart + chunk.position());
            if (n < 0) {
                while (chunk.hasRemaining()) {
                    chunk.put((byte) 0);
                }
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(chunk.array(), 0, chunkLen);
        if ((int) crc.getValue() != chunkCrcs[i]) {
            throw CorruptDataException.checksum(imagePath, chunkStart, chunkCrcs[i], (int) crc.getValue());
        }
        cachedChunk = i;
    }

    private static int zeroCrc(int length) {
        if (length == CHUNK_BYTES) {
            return ZERO_CHUNK_CRC;
        }
        CRC32C crc = new CRC32C();
        crc.update(new byte[length]);
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
