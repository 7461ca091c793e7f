package dev.rewind.testfixtures.clock;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock tests move by hand ({@link #set}, {@link #advance}), optionally stepping by a fixed
 * amount after every reading, so that code under test that reads the clock sees time pass. UTC.
 */
public final class MovingClock extends Clock {
    private Instant now;
    private final Duration stepPerReading;

    public MovingClock(Instant start, Duration stepPerReading) {
        this.now = start;
        this.stepPerReading = stepPerReading;
    }

    /** A clock standing at {@code start} until moved. */
    public static MovingClock at(Instant start) {
        return new MovingClock(start, Duration.ZERO);
    }

    public synchronized void set(Instant t) {
        now = t;
    }

    public synchronized void advance(Duration d) {
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
        return this;
    }
}
