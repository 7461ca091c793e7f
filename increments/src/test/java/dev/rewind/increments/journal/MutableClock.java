package dev.rewind.increments.journal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock tests move by hand: {@link #set} and {@link #advance}, and optionally a step added after every reading. */
final class MutableClock extends Clock {
    private Instant now;
    private final Duration stepPerReading;

    MutableClock(Instant start, Duration stepPerReading) {
        this.now = start;
        this.stepPerReading = stepPerReading;
    }

    static MutableClock at(Instant start) {
        return new MutableClock(start, Duration.ZERO);
    }

    synchronized void set(Instant t) {
        now = t;
    }

    synchronized void advance(Duration d) {
        now = now.plus(d);
    }

    @Override
    public synchronized Instant instant() {
        Instant t = now;
        now = now.plus(stepPerReading);
        return t;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException();
    }
}
