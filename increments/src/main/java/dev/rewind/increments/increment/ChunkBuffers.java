package dev.rewind.increments.increment;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small pool of chunk-sized arrays shared by every increment reader and writer, so that
 * reading or writing a chunk does not allocate a megabyte each time. Arrays hold a chunk
 * header and a full chunk; at most {@link #MAX_POOLED} are kept, the rest are left to the GC.
 */
final class ChunkBuffers {
    static final int BUFFER_BYTES = IncrementFile.CHUNK_HEADER_BYTES + IncrementFile.CHUNK_BYTES;
    static final int MAX_POOLED = 16;

    private static final ConcurrentLinkedDeque<byte[]> POOL = new ConcurrentLinkedDeque<>();
    private static final AtomicInteger POOLED = new AtomicInteger();

    private ChunkBuffers() {
    }

    /** An array of {@link #BUFFER_BYTES} bytes, with whatever content it had. */
    static byte[] take() {
        byte[] b = POOL.pollFirst();
        if (b == null) {
            return new byte[BUFFER_BYTES];
        }
        POOLED.decrementAndGet();
        return b;
    }

    /** Returns an array from {@link #take()}; the caller must not use it afterwards. Null is ignored. */
    static void give(byte[] b) {
        if (b == null || b.length != BUFFER_BYTES) {
            return;
        }
        if (POOLED.incrementAndGet() <= MAX_POOLED) {
            POOL.offerFirst(b);
        } else {
            POOLED.decrementAndGet();
        }
    }
}
