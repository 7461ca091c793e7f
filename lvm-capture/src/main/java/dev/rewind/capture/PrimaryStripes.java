package dev.rewind.capture;

import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Lets primary writes of different blocks run in parallel while keeping overlapping ones in
 * seq order. A write takes the stripes its range maps to while it still holds the sequencer
 * (so stripes are taken in seq order, always in ascending stripe order, and no cycle can
 * form), releases the sequencer, writes the primary, then releases its stripes. A later
 * write to an overlapping range therefore reaches the primary after the earlier one.
 */
final class PrimaryStripes {
    private static final int STRIPES = 1024;
    private static final int STRIPE_SHIFT = 16;

    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    /** Writes in flight hold the read side; a checkpoint takes the write side to wait them out. */
    private final ReadWriteLock inFlight = new ReentrantReadWriteLock();

    PrimaryStripes() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    /** The stripes of one write, held until {@link #unlock}. */
    final class Held {
        private final int[] indexes;

        private Held(int[] indexes) {
            this.indexes = indexes;
        }

        void unlock() {
            for (int i = indexes.length - 1; i >= 0; i--) {
                stripes[indexes[i]].unlock();
            }
            inFlight.readLock().unlock();
        }
    }

    /** Locks every stripe of member bytes {@code [start, end)}, in ascending stripe order. Call under the sequencer. */
    Held lock(int member, long startBytes, long endBytes) {
        long first = startBytes >>> STRIPE_SHIFT;
        long last = Math.max(first, (endBytes - 1) >>> STRIPE_SHIFT);
        if (first == last) {
            int index = stripeOf(member, first);
            inFlight.readLock().lock();
            stripes[index].lock();
            return new Held(new int[] {index});
        }
        boolean[] wanted = new boolean[STRIPES];
        int count = 0;
        for (long block = first; block <= last && count < STRIPES; block++) {
            int index = stripeOf(member, block);
            if (!wanted[index]) {
                wanted[index] = true;
                count++;
            }
        }
        int[] indexes = new int[count];
        for (int i = 0, k = 0; i < STRIPES; i++) {
            if (wanted[i]) {
                indexes[k++] = i;
            }
        }
        inFlight.readLock().lock();
        for (int index : indexes) {
            stripes[index].lock();
        }
        return new Held(indexes);
    }

    private static int stripeOf(int member, long block) {
        long h = block * 0x9E3779B97F4A7C15L + member * 0xC2B2AE3D27D4EB4FL;
        return (int) ((h >>> 40) & (STRIPES - 1));
    }

    /** Returns once every write that took its stripes before this call has reached the primary. Call under the sequencer. */
    void awaitWritesInFlight() {
        inFlight.writeLock().lock();
        inFlight.writeLock().unlock();
    }
}
