package dev.rewind.increments.transaction;

import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * When a set's open transaction is cut, whichever rule is met first: a fixed period
 * ({@code every}), a variable period between {@code adaptiveMin} and {@code adaptiveMax} that
 * shortens as the write rate rises ({@link CutTrigger}), a number of writes, or a number of
 * bytes. A rule that is null or zero is off; with every rule off, transactions are cut only on
 * demand.
 */
public record CutRules(Duration every, Duration adaptiveMin, Duration adaptiveMax, long writes, long bytes) {
    public static final CutRules NONE = new CutRules(null, null, null, 0, 0);

    public CutRules {
        if ((adaptiveMin == null) != (adaptiveMax == null)) {
            throw new RewindException("an adaptive period needs both a minimum and a maximum, such as 5s..5m");
        }
        if (adaptiveMin != null && adaptiveMin.compareTo(adaptiveMax) > 0) {
            throw new RewindException("the adaptive period's minimum " + Durations.format(adaptiveMin) + " is above its maximum "
                    + Durations.format(adaptiveMax) + "; write it as MIN..MAX");
        }
        if (writes < 0 || bytes < 0) {
            throw new RewindException("a cut after a negative number of writes or bytes makes no sense");
        }
        for (Duration d : new Duration[] {every, adaptiveMin, adaptiveMax}) {
            if (d != null && (d.isNegative() || d.isZero())) {
                throw new RewindException("cut periods must be positive");
            }
        }
    }

    /** Parses {@code MIN..MAX}, such as {@code 5s..5m}. */
    public static Duration[] parseAdaptive(String text) {
        int dots = text == null ? -1 : text.indexOf("..");
        if (dots < 0) {
            throw new dev.rewind.volumeset.MalformedValueException("'" + text + "' is not an adaptive period; write it as MIN..MAX, such as 5s..5m");
        }
        Duration min = Durations.parse(text.substring(0, dots));
        Duration max = Durations.parse(text.substring(dots + 2));
        new CutRules(null, min, max, 0, 0);
        return new Duration[] {min, max};
    }

    public boolean isEmpty() {
        return every == null && adaptiveMin == null && writes == 0 && bytes == 0;
    }

    public CutRules withEvery(Duration d) {
        return new CutRules(d, adaptiveMin, adaptiveMax, writes, bytes);
    }

    public CutRules withAdaptive(Duration min, Duration max) {
        return new CutRules(every, min, max, writes, bytes);
    }

    public CutRules withWrites(long n) {
        return new CutRules(every, adaptiveMin, adaptiveMax, n, bytes);
    }

    public CutRules withBytes(long n) {
        return new CutRules(every, adaptiveMin, adaptiveMax, writes, n);
    }

    /** Such as {@code every 30s, adaptive 5s..5m, 50000 writes, 256 MiB}; {@code on demand only} when empty. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        if (every != null) {
            parts.add("every " + Durations.format(every));
        }
        if (adaptiveMin != null) {
            parts.add("adaptive " + Durations.format(adaptiveMin) + ".." + Durations.format(adaptiveMax));
        }
        if (writes > 0) {
            parts.add(writes + " writes");
        }
        if (bytes > 0) {
            parts.add(Sizes.format(bytes));
        }
        return parts.isEmpty() ? "on demand only" : String.join(", ", parts);
    }
}
