package dev.rewind.increments.transaction;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.journal.Journal;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
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
    /** While this says so, no cut is made: a restore in place is running or was cut short (see {@link #holdCutsWhile}). */
    private volatile BooleanSupplier cutsHeld = () -> false;
    private final Thread worker;

    private final java.time.Clock clock;

    /**
     * @param cutsHeld see {@link #holdCutsWhile}; given here so that the cut thread, which starts
     *                 at once, never cuts the writes of a restore found cut short at open
     */
    public TransactionService(String setName, Journal journal, TransactionCutter cutter, CutTrigger trigger, IncrementCodec codec,
                              java.time.Clock clock, BooleanSupplier cutsHeld) {
        this.setName = setName;
        this.cutsHeld = cutsHeld;
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

    /** Asks the cut thread to look again now (a hold on cuts has ended). */
    public void poke() {
        lock.lock();
        try {
            asked = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * No cut is made while {@code held} says so, on any path (the rules, the scheduler,
     * {@code rewind cut}, a bookmark): the writes of a restore in place, running or cut short,
     * must never be split, since a boundary inside them names a state no one wrote. The
     * restore cuts its own ends through {@link #asOneTransaction}.
     */
    public void holdCutsWhile(BooleanSupplier held) {
        this.cutsHeld = held;
    }

    /** The body to run as one transaction of its own; see {@link #asOneTransaction}. */
    @FunctionalInterface
    public interface TransactionBody<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code body} as one transaction of its own: the open transaction is cut just before
     * it (unless {@code cutBefore} is false: the body continues writes that are already after
     * the last boundary), no other cut is made while it runs, and one is made just after it
     * returns. Both cuts have {@code reason}. If the body fails, no cut is made after it: what
     * it wrote stays in the open transaction until it is finished.
     */
    public synchronized <T> T asOneTransaction(CutReason reason, boolean cutBefore, TransactionBody<T> body) throws IOException {
        if (cutBefore) {
            cutNow(journal.lastSeq(), reason);
        }
        T result = body.run();
        cutNow(journal.lastSeq(), reason);
        return result;
    }

    /** Cuts the open transaction now, at the newest written seq; empty if nothing was written since the last cut. */
    public Optional<Transaction> cut(CutReason reason) throws IOException {
        return cut(journal.lastSeq(), reason);
    }

    /**
     * The seq a bookmark names, made durable and, where it can be, a boundary: {@code seq} (the
     * newest write if empty) is cut at if it is after the newest boundary (which forces the
     * journal through it), so that no cut made meanwhile can move it. A seq inside a committed
     * transaction is durable already and stays an exact write. Refused while cuts are held.
     */
    public synchronized long boundaryForBookmark(OptionalLong seq) throws IOException {
        long at = seq.isPresent() ? seq.getAsLong() : journal.lastSeq();
        if (at > journal.lastSeq()) {
            throw new IllegalArgumentException("seq " + at + " is beyond the newest write of set " + setName + " (seq "
                    + journal.lastSeq() + ")");
        }
        if (at > cutter.committedSeq()) {
            if (cutsHeld.getAsBoolean()) {
                throw new IllegalStateException("set " + setName + " has a restore in place that has not finished");
            }
            cutNow(at, CutReason.BOOKMARK);
        }
        return at;
    }

    /** Whether cuts are held now (a restore in place is running or was cut short). */
    public boolean areCutsHeld() {
        return cutsHeld.getAsBoolean();
    }

    private synchronized Optional<Transaction> cut(long upToSeq, CutReason reason) throws IOException {
        if (cutsHeld.getAsBoolean()) {
            return Optional.empty();
        }
        return cutNow(upToSeq, reason);
    }

    private synchronized Optional<Transaction> cutNow(long upToSeq, CutReason reason) throws IOException {
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
                if (due.isPresent() && !cutsHeld.getAsBoolean()) {
                    cut(journal.lastSeq(), due.get());
                    continue;
                }
                awaitNextCheck(due.isPresent());
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    return;
                }
                LOG.error("set {}: cut failed, the journal keeps every write and the cut is tried again: {}", setName, e.toString());
                sleep(RETRY_AFTER_FAILURE);
            }
        }
    }

    /**
     * Waits for a poke or the next deadline; {@code heldBack} (a cut is due but cuts are held)
     * waits for the poke that ends the hold, or a second, whichever comes first.
     */
    private void awaitNextCheck(boolean heldBack) {
        lock.lock();
        try {
            if (asked || closed) {
                asked = false;
                return;
            }
            Optional<Instant> deadline = trigger.adaptiveDeadline();
            long waitMillis = heldBack ? 1_000L
                    : deadline.map(d -> Math.max(1, Duration.between(clock.instant(), d).toMillis())).orElse(60_000L);
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
