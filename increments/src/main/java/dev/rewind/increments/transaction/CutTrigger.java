package dev.rewind.increments.transaction;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides, on the capture side, when the open transaction should be cut by count, bytes or
 * write rate (the fixed period is the scheduler's). The capture path reports every record
 * ({@link #captured}), which costs two atomic adds and a compare, and learns when a count or
 * byte rule has just been met. The variable period follows the write rate: after each cut it
 * is set to the time the recent rate (a moving average over transactions) needs to write
 * {@link #ADAPTIVE_TARGET_BYTES}, kept between the rule's minimum and maximum, so heavy writing
 * cuts often and quiet writing rarely.
 */
public final class CutTrigger {
    /** The variable period aims at transactions of about this many bytes. */
    public static final long ADAPTIVE_TARGET_BYTES = 64L << 20;

    private final Clock clock;
    private volatile CutRules rules;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private volatile boolean asked;
    private volatile Instant transactionStart;
    private volatile double bytesPerSecond;

    public CutTrigger(CutRules rules, Clock clock) {
        this.rules = rules;
        this.clock = clock;
        this.transactionStart = clock.instant();
    }

    public CutRules rules() {
        return rules;
    }

    public void rules(CutRules newRules) {
        this.rules = newRules;
        asked = false;
    }

    /** Counts one captured record; true exactly once when a count or byte rule is met, until the next cut. */
    public boolean captured(long recordBytes) {
        long w = writes.incrementAndGet();
        long b = bytes.addAndGet(recordBytes);
        CutRules r = rules;
        if (asked || (r.writes() == 0 || w < r.writes()) && (r.bytes() == 0 || b < r.bytes())) {
            return false;
        }
        asked = true;
        return true;
    }

    /**
     * Counts the writes the open transaction already holds when the set is opened (written
     * before the last close or crash), so that the count and byte rules apply to the whole
     * transaction and not only to what is written after the open.
     */
    public void carriedOver(long recordCount, long recordBytes) {
        writes.addAndGet(recordCount);
        bytes.addAndGet(recordBytes);
    }

    /** Writes counted since the last cut. */
    public long pendingWrites() {
        return writes.get();
    }

    /** Which capture-side rule is due now, if any: writes, bytes, or the variable period (only with writes pending). */
    public Optional<CutReason> due() {
        CutRules r = rules;
        long w = writes.get();
        if (r.writes() > 0 && w >= r.writes()) {
            return Optional.of(CutReason.WRITES);
        }
        if (r.bytes() > 0 && bytes.get() >= r.bytes()) {
            return Optional.of(CutReason.BYTES);
        }
        Optional<Instant> deadline = adaptiveDeadline();
        if (w > 0 && deadline.isPresent() && !clock.instant().isBefore(deadline.get())) {
            return Optional.of(CutReason.ADAPTIVE);
        }
        return Optional.empty();
    }

    /** When the variable period of the open transaction runs out; empty when that rule is off. */
    public Optional<Instant> adaptiveDeadline() {
        CutRules r = rules;
        if (r.adaptiveMin() == null) {
            return Optional.empty();
        }
        return Optional.of(transactionStart.plus(adaptivePeriod(r, bytesPerSecond)));
    }

    static Duration adaptivePeriod(CutRules r, double bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            return r.adaptiveMax();
        }
        double seconds = ADAPTIVE_TARGET_BYTES / bytesPerSecond;
        Duration d = seconds > r.adaptiveMax().getSeconds() + 1 ? r.adaptiveMax() : Duration.ofNanos((long) (seconds * 1e9));
        if (d.compareTo(r.adaptiveMin()) < 0) {
            return r.adaptiveMin();
        }
        return d.compareTo(r.adaptiveMax()) > 0 ? r.adaptiveMax() : d;
    }

    /** The period the variable rule would give the next transaction at the present rate. */
    public Optional<Duration> adaptivePeriod() {
        CutRules r = rules;
        return r.adaptiveMin() == null ? Optional.empty() : Optional.of(adaptivePeriod(r, bytesPerSecond));
    }

    /** A transaction was cut: its writes and bytes leave the counters, and the rate learns from it. */
    public void cutDone(Transaction t) {
        writes.addAndGet(-t.writes());
        bytes.addAndGet(-t.bytes());
        Instant now = clock.instant();
        double seconds = Math.max(0.001, Duration.between(transactionStart, now).toNanos() / 1e9);
        double rate = t.bytes() / seconds;
        bytesPerSecond = bytesPerSecond == 0 ? rate : (bytesPerSecond + rate) / 2;
        transactionStart = now;
        asked = false;
    }
}
