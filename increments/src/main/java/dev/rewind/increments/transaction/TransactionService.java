package dev.rewind.increments.transaction;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.journal.Journal;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transactions of one open set: cuts on demand ({@link #cut}, which the scheduler's
 * period job and {@code rewind cut} call) and, on a thread of its own, the cuts the capture
 * side asks for (count, bytes, variable period; see {@link CutTrigger}). Cuts run one at a
 * time and never hold up writes. A cut that fails is logged and tried again at the next
 * trigger: the journal keeps every write meanwhile, so nothing is lost, only not yet cut.
 */
public final class TransactionService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionService.class);
    private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(5);

    private final String setName;
    private final Journal journal;
    private final TransactionCutter cutter;
    private final CutTrigger trigger;
    private final List<CutListener> listeners = new CopyOnWriteArrayList<>();
    private volatile IncrementCodec codec;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private boolean asked;
    private volatile boolean closed;
    private final Thread worker;

    private final java.time.Clock clock;

    public TransactionService(String setName, Journal journal, TransactionCutter cutter, CutTrigger trigger, IncrementCodec codec,
                              java.time.Clock clock) {
        this.setName = setName;
        this.clock = clock;
        this.journal = journal;
        this.cutter = cutter;
        this.trigger = trigger;
        this.codec = codec;
        long pendingBytes = 0;
        for (long s = cutter.committedSeq() + 1; s <= journal.lastSeq(); s++) {
            pendingBytes += journal.lengthOf(s);
        }
        trigger.carriedOver(journal.lastSeq() - cutter.committedSeq(), pendingBytes);
        this.worker = new Thread(this::run, "rewind-cut-" + setName);
        worker.setDaemon(true);
        worker.start();
    }

    public void addListener(CutListener l) {
        listeners.add(l);
    }

    public CutRules rules() {
        return trigger.rules();
    }

    public void rules(CutRules rules) {
        trigger.rules(rules);
        poke();
    }

    public IncrementCodec codec() {
        return codec;
    }

    public void codec(IncrementCodec c) {
        this.codec = c;
    }

    /** The period the variable rule gives the open transaction now, if that rule is on. */
    public Optional<Duration> adaptivePeriod() {
        return trigger.adaptivePeriod();
    }

    /** The capture path's report of one record: cheap; wakes the cut thread when a count or byte rule is met. */
    public void captured(long recordBytes) {
        if (trigger.captured(recordBytes)) {
            poke();
        }
    }

    private void poke() {
        lock.lock();
        try {
            asked = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Cuts the open transaction now, at the newest written seq; empty if nothing was written since the last cut. */
    public Optional<Transaction> cut(CutReason reason) throws IOException {
        return cut(journal.lastSeq(), reason);
    }

    private synchronized Optional<Transaction> cut(long upToSeq, CutReason reason) throws IOException {
        if (closed) {
            throw new IOException("set " + setName + " is closed");
        }
        Optional<Transaction> t = cutter.cut(upToSeq, reason, trigger.rules(), codec);
        if (t.isPresent()) {
            trigger.cutDone(t.get());
            for (CutListener l : listeners) {
                l.cut(t.get());
            }
        }
        return t;
    }

    private void run() {
        while (!closed) {
            try {
                Optional<CutReason> due = trigger.due();
                if (due.isPresent()) {
                    cut(journal.lastSeq(), due.get());
                    continue;
                }
                awaitNextCheck();
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    return;
                }
                LOG.error("set {}: cut failed, the journal keeps every write and the cut is tried again: {}", setName, e.toString());
                sleep(RETRY_AFTER_FAILURE);
            }
        }
    }

    private void awaitNextCheck() {
        lock.lock();
        try {
            if (asked || closed) {
                asked = false;
                return;
            }
            Optional<Instant> deadline = trigger.adaptiveDeadline();
            long waitMillis = deadline.map(d -> Math.max(1, Duration.between(clock.instant(), d).toMillis())).orElse(60_000L);
            wake.await(Math.min(waitMillis, 60_000L), java.util.concurrent.TimeUnit.MILLISECONDS);
            asked = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the cut thread; a cut under way finishes first. */
    @Override
    public void close() {
        closed = true;
        poke();
        try {
            worker.join(Duration.ofMinutes(1).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            // a cut still running on another thread (the scheduler's) has finished once we get here
        }
    }
}
