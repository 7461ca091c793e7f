package dev.rewind.increments.increment;

import com.github.luben.zstd.RecyclingBufferPool;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.commons.compress.compressors.lz4.BlockLZ4CompressorInputStream;
import org.apache.commons.compress.compressors.lz4.BlockLZ4CompressorOutputStream;
import org.apache.commons.compress.compressors.lz77support.Parameters;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;

/**
 * Compresses and decompresses one chunk of an increment with its {@link IncrementCodec}, into
 * and out of caller-owned arrays. Decompression trusts nothing it reads: it produces exactly the
 * raw length the (checksummed) index gives, never more, and any complaint of the decompressor
 * comes back as an {@link IOException} for the reader to report as corruption at the chunk.
 */
final class ChunkCodec {
    /** zstd's default level: most of the ratio of higher levels at several times their speed. */
    static final int ZSTD_LEVEL = 3;
    private static final Parameters LZ4_PARAMETERS = BlockLZ4CompressorOutputStream.createParameterBuilder().tunedForSpeed().build();

    private ChunkCodec() {
    }

    /**
     * Compresses {@code raw[0, rawLength)} into {@code out} from {@code outOffset}. Returns the
     * compressed length if it is smaller than {@code rawLength}, or -1 if the chunk does not get
     * smaller (or the codec is {@link IncrementCodec#NONE}): the caller then stores it raw.
     */
    static int compress(IncrementCodec codec, byte[] raw, int rawLength, byte[] out, int outOffset) throws IOException {
        if (codec == IncrementCodec.NONE || rawLength == 0) {
            return -1;
        }
        BoundedArrayOutput sink = new BoundedArrayOutput(out, outOffset, Math.min(rawLength - 1, out.length - outOffset));
        try (OutputStream compressor = compressorFor(codec, sink)) {
            compressor.write(raw, 0, rawLength);
        }
        return sink.isOverflowed() ? -1 : sink.count();
    }

    /**
     * Decompresses {@code stored[storedOffset, +storedLength)} into exactly {@code raw[0, rawLength)}.
     * Fails with an {@link IOException} naming what was wrong if the stored bytes decompress to
     * anything else or the decompressor refuses them.
     */
    static void decompress(IncrementCodec codec, byte[] stored, int storedOffset, int storedLength, byte[] raw, int rawLength) throws IOException {
        if (codec == IncrementCodec.NONE) {
            throw new IOException("the chunk is marked compressed but the increment's codec is none");
        }
        try (InputStream in = decompressorFor(codec, new ByteArrayInputStream(stored, storedOffset, storedLength))) {
            int n = in.readNBytes(raw, 0, rawLength);
            if (n != rawLength) {
                throw new IOException(codec.settingName() + " data decompresses to " + n + " bytes, the index says " + rawLength);
            }
            if (in.read() != -1) {
                throw new IOException(codec.settingName() + " data decompresses to more than the " + rawLength + " bytes the index says");
            }
        } catch (RuntimeException e) {
            throw new IOException(codec.settingName() + " decompression failed: " + e, e);
        }
    }

    private static OutputStream compressorFor(IncrementCodec codec, OutputStream sink) throws IOException {
        return switch (codec) {
            case ZSTD -> new ZstdCompressorOutputStream(sink, ZSTD_LEVEL, false, false);
            case LZ4 -> new BlockLZ4CompressorOutputStream(sink, LZ4_PARAMETERS);
            case NONE -> throw new IllegalArgumentException("codec none does not compress");
        };
    }

    private static InputStream decompressorFor(IncrementCodec codec, InputStream stored) throws IOException {
        return switch (codec) {
            case ZSTD -> new ZstdCompressorInputStream(stored, RecyclingBufferPool.INSTANCE);
            case LZ4 -> new BlockLZ4CompressorInputStream(stored);
            case NONE -> throw new IllegalArgumentException("codec none does not decompress");
        };
    }

    /** Writes into a window of an array; past its limit it only notes that it overflowed. */
    private static final class BoundedArrayOutput extends OutputStream {
        private final byte[] array;
        private final int start;
        private final int limit;
        private int count;
        private boolean overflowed;

        BoundedArrayOutput(byte[] array, int start, int limit) {
            this.array = array;
            this.start = start;
            this.limit = Math.max(0, limit);
        }

        @Override
        public void write(int b) {
            if (count < limit) {
                array[start + count++] = (byte) b;
            } else {
                overflowed = true;
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (overflowed || len > limit - count) {
                overflowed = true;
                return;
            }
            System.arraycopy(b, off, array, start + count, len);
            count += len;
        }

        boolean isOverflowed() {
            return overflowed;
        }

        int count() {
            return count;
        }
    }
}
