package dev.rewind.increments.journal;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Which seqs of a journal are written and which are durable, and the one thread that makes
 * them durable (BookKeeper's {@code Journal} and its force-write thread are the model).
 *
 * <p>Writers reserve a record's place in seq order under the journal's lock, then write it
 * outside any lock, in whatever order they finish, and report it with {@link #written}. This
 * class keeps the <em>written seq</em>: the newest seq at or below which every record is
 * written (a record reserved but not yet written is a hole, and the written seq stops before
 * it). A flush asks for a seq and waits; the force thread takes every request waiting, waits
 * until the written seq reaches the highest of them (no hole may remain below a flushed seq),
 * writes one flush mark and forces once for all of them, then wakes them together. With no
 * flush waiting it still forces every {@link #BACKGROUND_FORCE_BYTES}, as write-back would.
 *
 * <p>A failed write or force is final: the hole it leaves will never be filled, and a later
 * force could not vouch for what the failed one lost, so every waiting and later flush fails.
 */
final class GroupCommit implements AutoCloseable {
    /** The journal as the force thread sees it. */
    interface Forcer {
        /** Writes a flush mark covering {@code writtenSeq}, forces the journal, and returns the seq now durable. */
        long markAndForce(long writtenSeq) throws IOException;

        /** Bytes reserved since the last force began. */
        long unforcedBytes();
    }

    /**
     * With no flush waiting, the force thread forces anyway once this much is unforced, so that
     * the force that seals a full segment (under the journal's lock) finds little left to write.
     */
    static final long BACKGROUND_FORCE_BYTES = 8L << 20;
    private static final long IDLE_CHECK_MILLIS = 20;

    /** Records reserved but not yet reported written may span at most this many seqs. */
    static final int MAX_SEQS_IN_FLIGHT = 1 << 16;
    private static final int MASK = MAX_SEQS_IN_FLIGHT - 1;

    private final String name;
    private final Forcer forcer;
    /** Slot {@code seq & MASK} holds {@code seq} once that record is written. */
    private final AtomicLongArray writtenSlots = new AtomicLongArray(MAX_SEQS_IN_FLIGHT);
    private final AtomicLong writtenSeq;
    private final Thread forceThread;
    private volatile long durableSeq;
    private volatile long awaitedWrittenSeq = Long.MAX_VALUE;
    private volatile IOException failure;
    // guarded by this
    private long requestedSeq;
    private boolean closing;

    GroupCommit(String name, long lastSeq, Forcer forcer) {
        this.name = name;
        this.forcer = forcer;
        this.writtenSeq = new AtomicLong(lastSeq);
        this.durableSeq = lastSeq;
        this.requestedSeq = lastSeq;
        this.forceThread = new Thread(this::forceLoop, "rewind-journal-force-" + name);
        this.forceThread.setDaemon(true);
        this.forceThread.start();
    }

    /** The newest seq at or below which every record is written. */
    long writtenSeq() {
        return writtenSeq.get();
    }

    /** The newest seq known to be on stable storage. */
    long durableSeq() {
        return durableSeq;
    }

    /** Throws the failure that ended this journal's writing, if any. */
    void checkNotFailed() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException("journal " + name + " stopped after a failed write or force; reopen the set: " + f.getMessage(), f);
        }
    }

    /** Waits (rarely) until {@code seq} may be reserved without running past the in-flight window. */
    void awaitRoomFor(long seq) throws IOException {
        while (seq - writtenSeq.get() >= MAX_SEQS_IN_FLIGHT) {
            checkNotFailed();
            LockSupport.parkNanos(100_000);
        }
    }

    /** Reports the record of {@code seq} written; advances the written seq over every hole now filled. */
    void written(long seq) {
        writtenSlots.set((int) (seq & MASK), seq);
        long w;
        while (writtenSlots.get((int) ((w = writtenSeq.get()) + 1) & MASK) == w + 1) {
            writtenSeq.compareAndSet(w, w + 1);
        }
        if (writtenSeq.get() >= awaitedWrittenSeq) {
            LockSupport.unpark(forceThread);
        }
    }

    /** Ends all writing: a record could not be written or forced. Every waiting and later flush fails. */
    void fail(IOException cause) {
        synchronized (this) {
            if (failure == null) {
                failure = cause;
            }
            notifyAll();
        }
        LockSupport.unpark(forceThread);
    }

    /**
     * Returns once every record up to {@code seq} is written and forced. Callers arriving
     * while a force runs are served together by the next one.
     */
    void flushTo(long seq) throws IOException {
        if (durableSeq >= seq) {
            return;
        }
        boolean interrupted = false;
        try {
            synchronized (this) {
                if (seq > requestedSeq) {
                    requestedSeq = seq;
                    notifyAll();
                }
                while (durableSeq < seq) {
                    checkNotFailed();
                    if (closing) {
                        throw new IOException("journal " + name + " is closed");
                    }
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true; // a flush is not abandoned half way; the interrupt is kept for the caller
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void forceLoop() {
        for (;;) {
            long target;
            synchronized (this) {
                while (requestedSeq <= durableSeq && !closing && failure == null
                        && forcer.unforcedBytes() < BACKGROUND_FORCE_BYTES) {
                    try {
                        wait(IDLE_CHECK_MILLIS);
                    } catch (InterruptedException e) {
                        // only close() ends this thread
                    }
                }
                if (failure != null || (closing && requestedSeq <= durableSeq)) {
                    return;
                }
                target = requestedSeq > durableSeq ? requestedSeq : writtenSeq.get(); // else a background force
            }
            awaitedWrittenSeq = target;
            while (writtenSeq.get() < target && failure == null) {
                LockSupport.parkNanos(1_000_000);
            }
            awaitedWrittenSeq = Long.MAX_VALUE;
            if (failure != null) {
                return;
            }
            try {
                long durable = forcer.markAndForce(writtenSeq.get());
                synchronized (this) {
                    durableSeq = Math.max(durableSeq, durable);
                    notifyAll();
                }
            } catch (IOException e) {
                fail(e);
                return;
            } catch (RuntimeException e) {
                fail(new IOException(e.toString(), e));
                return;
            }
        }
    }

    /** Stops the force thread once the flushes already asked for are done. */
    @Override
    public void close() {
        synchronized (this) {
            closing = true;
            notifyAll();
        }
        boolean interrupted = false;
        while (forceThread.isAlive()) {
            try {
                forceThread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
