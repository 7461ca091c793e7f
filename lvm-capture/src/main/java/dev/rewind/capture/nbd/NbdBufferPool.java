package dev.rewind.capture.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Direct buffers for READ and WRITE payloads, shared by every connection of a server.
 * A request gets a buffer of its own length rounded up to a power of two (4 KiB to 32 MiB),
 * reused from a free list when one is there, so the hot path neither allocates nor makes
 * garbage once warm. The bytes handed out at once are bounded: {@link #acquire} waits while
 * the budget is spent, which pushes back on the clients (their requests stay in the socket).
 */
final class NbdBufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 25;

    private final long budgetBytes;
    private final long retainedLimitBytes;
    /** Free buffers by size class: index 0 holds 4 KiB buffers, the last 32 MiB ones. */
    private final List<ArrayDeque<ByteBuffer>> free = new ArrayList<>();
    private long inUseBytes;
    private long retainedBytes;

    /**
     * @param budgetBytes        most bytes handed out at once (a single request may exceed it when nothing else is out)
     * @param retainedLimitBytes most bytes kept in free lists for reuse
     */
    NbdBufferPool(long budgetBytes, long retainedLimitBytes) {
        if (budgetBytes < 1L << MAX_SHIFT || retainedLimitBytes < 0) {
            throw new IllegalArgumentException("buffer budget " + budgetBytes + " must be at least " + (1L << MAX_SHIFT)
                    + " bytes and the retained limit " + retainedLimitBytes + " at least 0");
        }
        this.budgetBytes = budgetBytes;
        this.retainedLimitBytes = retainedLimitBytes;
        for (int i = MIN_SHIFT; i <= MAX_SHIFT; i++) {
            free.add(new ArrayDeque<>());
        }
    }

    /** A direct buffer with position 0 and limit {@code lengthBytes} (1 to 32 MiB); waits while the budget is spent. */
    ByteBuffer acquire(int lengthBytes) throws InterruptedException {
        if (lengthBytes <= 0 || lengthBytes > 1 << MAX_SHIFT) {
            throw new IllegalArgumentException("buffer length " + lengthBytes + " is outside 1.." + (1 << MAX_SHIFT));
        }
        int shift = shiftFor(lengthBytes);
        int capacity = 1 << shift;
        ByteBuffer buffer;
        synchronized (this) {
            while (inUseBytes > 0 && inUseBytes + capacity > budgetBytes) {
                wait();
            }
            inUseBytes += capacity;
            buffer = free.get(shift - MIN_SHIFT).pollFirst();
            if (buffer != null) {
                retainedBytes -= capacity;
            }
        }
        if (buffer == null) {
            try {
                buffer = ByteBuffer.allocateDirect(capacity);
            } catch (OutOfMemoryError e) {
                synchronized (this) {
                    inUseBytes -= capacity;
                    notifyAll();
                }
                throw e;
            }
        }
        buffer.clear().limit(lengthBytes);
        return buffer;
    }

    /** Gives a buffer from {@link #acquire} back; it must not be used afterwards. */
    void release(ByteBuffer buffer) {
        int capacity = buffer.capacity();
        int shift = Integer.numberOfTrailingZeros(capacity);
        if (Integer.bitCount(capacity) != 1 || shift < MIN_SHIFT || shift > MAX_SHIFT || !buffer.isDirect()) {
            throw new IllegalArgumentException("not a buffer of this pool: " + buffer);
        }
        synchronized (this) {
            inUseBytes -= capacity;
            if (retainedBytes + capacity <= retainedLimitBytes) {
                free.get(shift - MIN_SHIFT).addFirst(buffer);
                retainedBytes += capacity;
            }
            notifyAll();
        }
    }

    synchronized long inUseBytes() {
        return inUseBytes;
    }

    synchronized long retainedBytes() {
        return retainedBytes;
    }

    private static int shiftFor(int lengthBytes) {
        int shift = 32 - Integer.numberOfLeadingZeros(lengthBytes - 1);
        return Math.max(MIN_SHIFT, shift);
    }
}
