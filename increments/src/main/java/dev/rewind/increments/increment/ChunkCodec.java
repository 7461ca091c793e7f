package dev.rewind.increments.increment;

import com.github.luben.zstd.RecyclingBufferPool;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
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
    /**
     * LZ4 as one raw LZ4 block per chunk, through lz4-java (native where it loads, else its
     * Java port). Commons Compress's pure-Java LZ4 was measured at several hundred times zstd's
     * CPU on zero-rich database pages, which defeats the point of a fast codec.
     */
    private static final class Lz4 {
        static final LZ4Factory FACTORY = LZ4Factory.fastestInstance();
    }

    static {
        // zstd-jni unpacks its native library into java.io.tmpdir, which need not exist yet
        // (a build or a service may point it at a directory of its own); a failure here shows
        // up, with what to do, when zstd is first used.
        try {
            java.nio.file.Files.createDirectories(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")));
        } catch (IOException | RuntimeException e) {
            // reported by unavailable() at first use
        }
    }

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
        if (codec == IncrementCodec.LZ4) {
            try {
                int n = Lz4.FACTORY.fastCompressor().compress(raw, 0, rawLength, out, outOffset, Math.min(rawLength - 1, out.length - outOffset));
                return n < rawLength ? n : -1;
            } catch (LZ4Exception e) {
                return -1; // it does not get smaller
            } catch (LinkageError e) {
                throw unavailable(codec, e);
            }
        }
        BoundedArrayOutput sink = new BoundedArrayOutput(out, outOffset, Math.min(rawLength - 1, out.length - outOffset));
        try (OutputStream compressor = compressorFor(codec, sink)) {
            compressor.write(raw, 0, rawLength);
        } catch (LinkageError e) {
            throw unavailable(codec, e);
        }
        return sink.isOverflowed() ? -1 : sink.count();
    }

    /**
     * Decompresses {@code stored[storedOffset, +storedLength)} into exactly {@code raw[0, rawLength)}.
     * Returns null when it did, or what was wrong when the stored bytes decompress to anything
     * else or the decompressor refuses them (the caller reports that as corruption). Throws only
     * when the codec itself cannot run here.
     */
    static String decompress(IncrementCodec codec, byte[] stored, int storedOffset, int storedLength, byte[] raw, int rawLength) throws IOException {
        if (codec == IncrementCodec.NONE) {
            return "the chunk is marked compressed but the increment's codec is none";
        }
        if (codec == IncrementCodec.LZ4) {
            try {
                int n = Lz4.FACTORY.safeDecompressor().decompress(stored, storedOffset, storedLength, raw, 0, rawLength);
                return n == rawLength ? null : "lz4 data decompresses to " + n + " bytes, the index says " + rawLength;
            } catch (LZ4Exception | IndexOutOfBoundsException e) {
                return "lz4 data does not decompress: " + e.getMessage();
            } catch (LinkageError e) {
                throw unavailable(codec, e);
            }
        }
        try (InputStream in = decompressorFor(codec, new ByteArrayInputStream(stored, storedOffset, storedLength))) {
            int n = in.readNBytes(raw, 0, rawLength);
            if (n != rawLength) {
                return codec.settingName() + " data decompresses to " + n + " bytes, the index says " + rawLength;
            }
            if (in.read() != -1) {
                return codec.settingName() + " data decompresses to more than the " + rawLength + " bytes the index says";
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return codec.settingName() + " data does not decompress: " + e.getMessage();
        } catch (LinkageError e) {
            throw unavailable(codec, e);
        }
    }

    /** The zstd codec runs through zstd-jni, whose native library is unpacked into java.io.tmpdir when first used. */
    private static IOException unavailable(IncrementCodec codec, LinkageError e) {
        return new IOException(codec.settingName() + " is not available in this JVM (" + e
                + "): make java.io.tmpdir (" + System.getProperty("java.io.tmpdir") + ") an existing, writable directory, or use another codec", e);
    }

    private static OutputStream compressorFor(IncrementCodec codec, OutputStream sink) throws IOException {
        return switch (codec) {
            case ZSTD -> ZstdCompressorOutputStream.builder().setOutputStream(sink).setLevel(ZSTD_LEVEL).get();
            case LZ4, NONE -> throw new IllegalArgumentException("codec " + codec.settingName() + " does not compress through a stream");
        };
    }

    private static InputStream decompressorFor(IncrementCodec codec, InputStream stored) throws IOException {
        return switch (codec) {
            case ZSTD -> new ZstdCompressorInputStream(stored, RecyclingBufferPool.INSTANCE);
            case LZ4, NONE -> throw new IllegalArgumentException("codec " + codec.settingName() + " does not decompress through a stream");
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
