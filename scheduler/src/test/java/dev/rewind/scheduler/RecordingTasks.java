package dev.rewind.scheduler;

import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.MemberRecord;
import dev.rewind.volumeset.catalog.SetRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * {@link SetTasks} for the tests: records every call (kind, set, wall time), and can be told
 * to fail or to take a while; also counts how many calls run at once.
 */
final class RecordingTasks implements SetTasks {
    record Run(String kind, String set, Instant at) {
    }

    final List<Run> runs = new CopyOnWriteArrayList<>();
    volatile boolean failing;
    volatile Duration busyFor = Duration.ZERO;
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger mostAtOnce = new AtomicInteger();

    @Override
    public void cut(String set) throws Exception {
        run("cut", set);
    }

    @Override
    public void checkpoint(String set) throws Exception {
        run("checkpoint", set);
    }

    @Override
    public void consistentBookmark(String set) throws Exception {
        run("consistent-bookmark", set);
    }

    @Override
    public void retain(String set) throws Exception {
        run("retain", set);
    }

    private void run(String kind, String set) throws Exception {
        runs.add(new Run(kind, set, Instant.now()));
        int now = running.incrementAndGet();
        mostAtOnce.accumulateAndGet(now, Math::max);
        try {
            if (!busyFor.isZero()) {
                Thread.sleep(busyFor.toMillis());
            }
            if (failing) {
                throw new IllegalStateException("the set's secondary is full\nsecond line that must not be logged");
            }
        } finally {
            running.decrementAndGet();
        }
    }

    long count(String kind, String set) {
        return runs.stream().filter(r -> r.kind().equals(kind) && r.set().equals(set)).count();
    }

    /** Waits until {@code condition} holds, failing with {@code what} after a generous deadline (not a speed check). */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still waiting after 60 s for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Puts a one-PV set named {@code name} in the catalog, so the scheduler accepts it. */
    static void insertSet(Catalog catalog, String name, Path secondaryDir) {
        catalog.insertSet(new SetRecord(name, UUID.randomUUID(), secondaryDir, 1 << 20,
                List.of(new MemberRecord(0, "disk", MemberRecord.Kind.PV, null, null, name + "-pv", 1 << 20))));
    }
}
