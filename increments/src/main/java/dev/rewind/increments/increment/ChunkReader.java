package dev.rewind.increments.increment;

import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

import static dev.rewind.increments.increment.IncrementFile.CHUNK_HEADER_BYTES;

/**
 * Reads the chunks of one open increment: each read is checked (chunk header against the
 * index, CRC32C of the stored bytes before decompressing, of the raw bytes after) and fails
 * with a {@link CorruptDataException} at the chunk's offset. Keeps the one decompressed chunk
 * random reads used last, swapped under a lock so that readers on several threads share it;
 * finds the compressed chunks it decompressed lately in the process's {@link DecompressedChunks},
 * and reads just the bytes asked for of a stored-raw chunk it has checked lately.
 */
final class ChunkReader {
    private final Path path;
    private final FileChannel channel;
    private final IncrementIndex index;
    private final IncrementCodec codec;
    private final Object cacheLock = new Object();
    private int cachedChunk = -1;
    private byte[] cachedRaw;
    private boolean closed;
    /**
     * Stored-raw chunks (incompressible data) whose checksums a read has checked within the last
     * {@link #RECHECK_NANOS}: a read of one reads just the bytes asked for, not the whole chunk.
     * Increments never change once written.
     */
    private final AtomicLongArray checked;
    private volatile long checkedSince = System.nanoTime();
    static final long RECHECK_NANOS = 60_000_000_000L;

    ChunkReader(Path path, FileChannel channel, IncrementIndex index, IncrementCodec codec) {
        this.path = path;
        this.channel = channel;
        this.index = index;
        this.codec = codec;
        this.checked = new AtomicLongArray((index.rawLengths.length + 63) / 64);
    }

    /** Copies {@code n} raw bytes of chunk {@code chunk} from {@code within} into dst, through the cached chunk. */
    void copy(int chunk, int within, ByteBuffer dst, int n) throws IOException {
        synchronized (cacheLock) {
            if (closed) {
                throw new ClosedChannelException();
            }
            if (cachedChunk == chunk) {
                dst.put(cachedRaw, within, n);
                return;
            }
        }
        byte[] shared = DecompressedChunks.get(this, chunk);
        if (shared != null) {
            dst.put(shared, within, n);
            return;
        }
        if (System.nanoTime() - checkedSince > RECHECK_NANOS) {
            checkedSince = System.nanoTime();
            for (int w = 0; w < checked.length(); w++) {
                checked.set(w, 0);
            }
        }
        if (index.chunkFlags[chunk] == IncrementIndex.CHUNK_STORED_RAW && (checked.get(chunk >>> 6) & (1L << chunk)) != 0) {
            ByteBuffer part = dst.duplicate().limit(dst.position() + n);
            long at = index.chunkFileOffsets[chunk] + CHUNK_HEADER_BYTES + within;
            while (part.hasRemaining()) {
                if (channel.read(part, at + part.position() - dst.position()) < 0) {
                    throw new CorruptDataException(path, at, "chunk " + chunk + " ends past the end of the file");
                }
            }
            dst.position(dst.position() + n);
            return;
        }
        byte[] stored = ChunkBuffers.take();
        byte[] raw = ChunkBuffers.take();
        try {
            load(chunk, stored, raw);
        } catch (IOException | RuntimeException e) {
            ChunkBuffers.give(raw);
            throw e;
        } finally {
            ChunkBuffers.give(stored);
        }
        if (index.chunkFlags[chunk] == IncrementIndex.CHUNK_STORED_RAW) {
            checked.getAndUpdate(chunk >>> 6, w -> w | (1L << chunk));
        } else {
            DecompressedChunks.put(this, chunk, raw, index.rawLengths[chunk]);
        }
        synchronized (cacheLock) {
            dst.put(raw, within, n);
            if (closed) {
                ChunkBuffers.give(raw);
            } else {
                ChunkBuffers.give(cachedRaw);
                cachedRaw = raw;
                cachedChunk = chunk;
            }
        }
    }

    /**
     * Reads chunk {@code i} into {@code stored} and its raw bytes into {@code raw} (arrays of
     * {@link ChunkBuffers#BUFFER_BYTES}), checking the chunk header against the index, the stored
     * bytes' CRC32C before decompressing and the raw bytes' after.
     */
    void load(int i, byte[] stored, byte[] raw) throws IOException {
        long at = index.chunkFileOffsets[i];
        int storedLength = index.storedLengths[i];
        int rawLength = index.rawLengths[i];
        ByteBuffer b = ByteBuffer.wrap(stored, 0, CHUNK_HEADER_BYTES + storedLength).order(ByteOrder.BIG_ENDIAN);
        while (b.hasRemaining()) {
            if (channel.read(b, at + b.position()) < 0) {
                throw new CorruptDataException(path, at, "chunk " + i + " ends past the end of the file");
            }
        }
        ByteBuffer expected = IncrementLayout.chunkHeader(i, storedLength, rawLength, index.chunkFlags[i], index.storedCrcs[i], index.rawCrcs[i]);
        if (!Arrays.equals(stored, 0, CHUNK_HEADER_BYTES, expected.array(), 0, CHUNK_HEADER_BYTES)) {
            throw new CorruptDataException(path, at, "chunk " + i + "'s header does not match the index");
        }
        int storedCrc = IncrementFile.crc(stored, CHUNK_HEADER_BYTES, storedLength);
        if (storedCrc != index.storedCrcs[i]) {
            throw CorruptDataException.checksum(path, at, index.storedCrcs[i], storedCrc);
        }
        if (index.chunkFlags[i] == IncrementIndex.CHUNK_STORED_RAW) {
            System.arraycopy(stored, CHUNK_HEADER_BYTES, raw, 0, rawLength);
        } else {
            String problem = ChunkCodec.decompress(codec, stored, CHUNK_HEADER_BYTES, storedLength, raw, rawLength);
            if (problem != null) {
                throw new CorruptDataException(path, at, "chunk " + i + ": " + problem);
            }
        }
        int rawCrc = IncrementFile.crc(raw, 0, rawLength);
        if (rawCrc != index.rawCrcs[i]) {
            throw new CorruptDataException(path, at, String.format("chunk %d decompressed: CRC32C expected %08x, found %08x", i, index.rawCrcs[i], rawCrc));
        }
    }

    /** Gives the cached chunk back to the pool; later copies still work (they load again). */
    void dropCache() {
        DecompressedChunks.forget(this);
        synchronized (cacheLock) {
            ChunkBuffers.give(cachedRaw);
            cachedRaw = null;
            cachedChunk = -1;
        }
    }

    /** Gives the cached chunk back to the pool; later copies fail. */
    void close() {
        DecompressedChunks.forget(this);
        synchronized (cacheLock) {
            closed = true;
            ChunkBuffers.give(cachedRaw);
            cachedRaw = null;
            cachedChunk = -1;
        }
    }
}
