package dev.rewind.testfixtures.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * Which I/O of a {@link PowerLossDisk} fails: counts the writes and forces of the files it
 * selects, and fails the {@code nth} one (1-based) with an {@link IOException}, once.
 * A plan that never fails ({@code nth = 0}) only counts, to learn how many there are.
 */
public final class FaultPlan {
    /** The kinds of I/O a plan can fail. */
    public enum Operation { WRITE, FORCE }

    private final Predicate<Path> files;
    private final Operation operation;
    private final long nth;
    private long seen;
    private String injected;

    public FaultPlan(Predicate<Path> files, Operation operation, long nth) {
        this.files = files;
        this.operation = operation;
        this.nth = nth;
    }

    /** A plan that fails nothing and counts the selected operations. */
    public static FaultPlan counting(Predicate<Path> files, Operation operation) {
        return new FaultPlan(files, operation, 0);
    }

    synchronized void check(Operation op, Path file) throws IOException {
        if (op != operation || !files.test(file)) {
            return;
        }
        seen++;
        if (seen == nth) {
            injected = op + " #" + nth + " of " + file;
            throw new IOException("Input/output error (injected: " + injected + ")");
        }
    }

    /** How many selected operations ran so far. */
    public synchronized long seen() {
        return seen;
    }

    /** The operation that failed, or null if none did yet. */
    public synchronized String injected() {
        return injected;
    }
}
