package dev.rewind.capture.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The replies of one connection in transmission, its writer thread, and the bounds on what
 * the connection may hold.
 *
 * <p><b>No shared thread waits on a client.</b> A worker that has run a request
 * {@linkplain #enqueue enqueues} its {@link NbdReply} here, which never blocks, and goes back
 * to the shared pool. The connection's own writer thread takes the replies in order and does
 * the blocking socket write through {@link NbdReplyWriter}. A client that stops reading its
 * replies therefore blocks only its own writer thread.
 *
 * <p><b>Back-pressure.</b> The connection's reader thread calls {@link #admit} before it hands
 * a request on (or queues a refusal). Admission waits while the connection has its maximum
 * number of requests in flight (read, and not yet answered on the wire or discarded) or its
 * maximum of READ reply bytes admitted and not yet written; a single request larger than the
 * byte cap is admitted when nothing else is. While the reader waits it does not read the
 * socket, so TCP pushes back on that client alone. Every queued reply was admitted, so the
 * queue never holds more than those two caps.
 *
 * <p><b>The connection's own thread may write.</b> The replies of requests the reader runs
 * itself (see {@code NbdConnection}) are gathered while more requests are at hand, then
 * written by the reader in one call through {@link #writeOrEnqueueAll} when nothing is queued
 * and the writer thread is not writing: no thread hand-off on the common path, one system
 * call per batch. That blocks only the reader of the connection whose client is slow to
 * read, which is back-pressure on that client alone. Otherwise the replies are queued like
 * any other, so replies never interleave on the wire.
 *
 * <p><b>Dropping.</b> {@link NbdReplyWriter} records when a write last made progress; the
 * server's watchdog closes a connection whose writer made none within the reply timeout.
 * {@link #abort} (on that, on a failed write, or on any hard close) discards the queued
 * replies, gives their buffers back to the shared {@link NbdBufferPool}, and wakes the reader;
 * replies enqueued afterwards are released at once.
 */
final class NbdReplyQueue {
    /** A reply, the payload buffer to give back once it is written, and the bytes it was admitted with. */
    private record Entry(NbdReply reply, ByteBuffer buffer, int admittedBytes) {
    }

    private final NbdReplyWriter writer;
    private final NbdBufferPool buffers;
    private final int maxRequestsInFlight;
    private final long maxReplyBytes;
    private final ReentrantLock lock = new ReentrantLock();
    /** Admission and idleness: signalled when a request is answered or the connection is dropped. */
    private final Condition changed = lock.newCondition();
    /** The writer thread's: signalled only when a reply is queued for it (or it must stop), so answering a request wakes no one else. */
    private final Condition queued = lock.newCondition();
    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private int inFlight;
    private long admittedBytes;
    private boolean stopping;
    private boolean aborted;
    /** A thread (the writer, or the connection's reader on its direct path) is writing to the socket. */
    private boolean writing;
    private Thread writerThread;
    private Consumer<Throwable> onWriteFailure = e -> { };

    /**
     * @param maxRequestsInFlight requests admitted and not yet answered, at most
     * @param maxReplyBytes       READ reply bytes admitted and not yet written, at most
     */
    NbdReplyQueue(NbdReplyWriter writer, NbdBufferPool buffers, int maxRequestsInFlight, long maxReplyBytes) {
        this.writer = writer;
        this.buffers = buffers;
        this.maxRequestsInFlight = maxRequestsInFlight;
        this.maxReplyBytes = maxReplyBytes;
    }

    /**
     * Starts the writer thread; {@code onWriteFailure} runs in it when a reply cannot be
     * written (the connection is then to be dropped).
     */
    void start(String threadName, Consumer<Throwable> onWriteFailure) {
        Thread t = new Thread(() -> writeLoop(onWriteFailure), threadName);
        t.setDaemon(true);
        lock.lock();
        try {
            writerThread = t;
            this.onWriteFailure = onWriteFailure;
        } finally {
            lock.unlock();
        }
        t.start();
    }

    /**
     * Takes one request in flight carrying {@code replyBytes} of READ data (0 for others);
     * waits while the connection is at a cap.
     *
     * @throws ClosedChannelException once the connection has been dropped
     */
    void admit(int replyBytes) throws InterruptedException, ClosedChannelException {
        lock.lock();
        try {
            while (!aborted && (inFlight >= maxRequestsInFlight
                    || admittedBytes > 0 && admittedBytes + replyBytes > maxReplyBytes)) {
                changed.await();
            }
            if (aborted) {
                throw new ClosedChannelException();
            }
            inFlight++;
            admittedBytes += replyBytes;
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@link #admit} would wait now (the connection is at one of its caps). */
    boolean atCap(int replyBytes) {
        lock.lock();
        try {
            return inFlight >= maxRequestsInFlight || admittedBytes > 0 && admittedBytes + replyBytes > maxReplyBytes;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues the reply of an admitted request; {@code buffer} (may be null) goes back to the
     * pool once the reply is written or discarded. Never blocks.
     */
    void enqueue(NbdReply reply, ByteBuffer buffer, int admittedReplyBytes) {
        Entry entry = new Entry(reply, buffer, admittedReplyBytes);
        lock.lock();
        try {
            if (!aborted) {
                queue.addLast(entry);
                queued.signal();
                return;
            }
        } finally {
            lock.unlock();
        }
        done(entry);
    }

    /**
     * Writes the replies of admitted requests (at most {@link NbdReplyWriter#MAX_BATCH_MESSAGES},
     * without payload) at once on the calling thread, in one gathering write, when nothing is
     * queued and no other write is under way; otherwise queues them like {@link #enqueue}. The
     * caller is the connection's reader, which may block on its own client. A failed write
     * drops the connection.
     */
    void writeOrEnqueueAll(List<NbdReply> replies) {
        writeOrEnqueue(replies.stream().map(r -> new Entry(r, null, 0)).toList());
    }

    private void writeOrEnqueue(List<Entry> entries) {
        Consumer<Throwable> failure;
        lock.lock();
        try {
            if (aborted) {
                failure = null;
            } else if (writing || !queue.isEmpty()) {
                queue.addAll(entries);
                queued.signal();
                return;
            } else {
                writing = true;
                failure = onWriteFailure;
            }
        } finally {
            lock.unlock();
        }
        if (failure == null) {
            entries.forEach(this::done);
            return;
        }
        Throwable failed = null;
        try {
            if (entries.size() == 1) {
                entries.get(0).reply().writeTo(writer);
            } else {
                writer.beginBatch();
                try {
                    for (Entry e : entries) {
                        e.reply().writeTo(writer);
                    }
                } finally {
                    writer.endBatch();
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            failed = e;
        } finally {
            lock.lock();
            try {
                writing = false;
                if (!queue.isEmpty()) {
                    queued.signal();
                }
            } finally {
                lock.unlock();
            }
            entries.forEach(this::done);
        }
        if (failed != null) {
            abort();
            failure.accept(failed);
        }
    }

    /** Forgets an admitted request that will get no reply (it was never handed on). */
    void cancel(int admittedReplyBytes) {
        done(new Entry(null, null, admittedReplyBytes));
    }

    /** Waits until every admitted request has been answered or discarded; false on timeout. */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (inFlight > 0) {
                if (left <= 0) {
                    return false;
                }
                left = changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Discards every queued reply, releases its buffer, and wakes whoever waits. Idempotent. */
    void abort() {
        ArrayDeque<Entry> discarded;
        lock.lock();
        try {
            aborted = true;
            discarded = new ArrayDeque<>(queue);
            queue.clear();
            changed.signalAll();
            queued.signalAll();
        } finally {
            lock.unlock();
        }
        discarded.forEach(this::done);
    }

    /** Lets the writer finish what is queued, then end; waits up to {@code timeout} for it. */
    void stop(Duration timeout) throws InterruptedException {
        Thread t;
        lock.lock();
        try {
            stopping = true;
            queued.signalAll();
            t = writerThread;
        } finally {
            lock.unlock();
        }
        if (t != null && t != Thread.currentThread()) {
            t.join(timeout.toMillis());
        }
    }

    // ---- the writer thread ----

    /**
     * Takes the queued replies in order and writes them: as many as fit in one gathering write
     * (see {@link NbdReplyWriter#beginBatch()}) together, a reply with a large payload alone.
     */
    private void writeLoop(Consumer<Throwable> onWriteFailure) {
        ArrayDeque<Entry> taken = new ArrayDeque<>();
        for (;;) {
            lock.lock();
            try {
                while ((queue.isEmpty() || writing) && !aborted && !(stopping && queue.isEmpty())) {
                    queued.awaitUninterruptibly();
                }
                Entry first = queue.pollFirst();
                if (first == null) {
                    return;
                }
                writing = true;
                taken.addLast(first);
                if (payloadBytes(first) <= NbdReplyWriter.WRITE_SLICE_BYTES) {
                    long batchBytes = payloadBytes(first);
                    while (taken.size() < NbdReplyWriter.MAX_BATCH_MESSAGES && !queue.isEmpty()
                            && batchBytes + payloadBytes(queue.peekFirst()) <= NbdReplyWriter.WRITE_SLICE_BYTES) {
                        Entry next = queue.pollFirst();
                        batchBytes += payloadBytes(next);
                        taken.addLast(next);
                    }
                }
            } finally {
                lock.unlock();
            }
            try {
                if (taken.size() == 1) {
                    taken.peekFirst().reply().writeTo(writer);
                } else {
                    writer.beginBatch();
                    try {
                        for (Entry e : taken) {
                            e.reply().writeTo(writer);
                        }
                    } finally {
                        writer.endBatch();
                    }
                }
            } catch (IOException | RuntimeException | Error e) {
                abort();
                onWriteFailure.accept(e);
                return;
            } finally {
                lock.lock();
                try {
                    writing = false;
                    // the reader does not wait for this: it queues behind a write under way
                } finally {
                    lock.unlock();
                }
                while (!taken.isEmpty()) {
                    done(taken.pollFirst());
                }
            }
        }
    }

    /** The bytes a reply carries after its header (READ data; a message for errors, counted as a header). */
    private static long payloadBytes(Entry entry) {
        return entry.buffer() == null ? 0 : entry.buffer().remaining();
    }

    private void done(Entry entry) {
        if (entry.buffer() != null) {
            buffers.release(entry.buffer());
        }
        lock.lock();
        try {
            inFlight--;
            admittedBytes -= entry.admittedBytes();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
