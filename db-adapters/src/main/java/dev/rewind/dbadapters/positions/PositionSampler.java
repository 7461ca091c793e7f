package dev.rewind.dbadapters.positions;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.ConnectionPool;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.locate.Lineage;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import dev.rewind.volumeset.catalog.RelationNames;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples a database's log position against its set's seq while the daemon runs, on a
 * daemon thread of its own, every {@code sampleEvery} of the attachment: the adapter reads
 * the durable position, the set's newest seq (no flush: a sample only brackets), and the
 * bound position; a sample that repeats the last one's seq and positions is skipped. While
 * the database is down sampling pauses, logged once per outage, and is retried every
 * period. {@link #pause()} holds it off around a coordinated restore. Each sample is stored
 * with the {@link Lineage} its seq is on; none is taken while a restore in place is
 * unfinished or at a seq of a restore's own writes. Samples older than the set's history are
 * pruned now and then.
 *
 * <p>Beside positions it records, at most every {@link #NAMES_EVERY} and only when they
 * changed (or the lineage did), the names of the database's user tables by the files that
 * hold them ({@link DatabaseAdapter#relationNames}): PostgreSQL's WAL names a dropped table
 * only by its files, and {@code db find} names it through the mapping in force before.
 */
public final class PositionSampler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PositionSampler.class);
    /** How often samples below the set's oldest seq are pruned. */
    static final Duration PRUNE_EVERY = Duration.ofMinutes(10);
    /** How often, at most, the relation names are read. */
    static final Duration NAMES_EVERY = Duration.ofSeconds(5);

    private final CapturedSet set;
    private final Catalog catalog;
    private final DatabaseAdapter adapter;
    private final Clock clock;
    private final Duration every;
    private final Thread thread;

    private boolean stopped;
    private int pauses;
    private long periodsHeldOff;
    private boolean sampling;
    private PositionSample last;
    private String outage;
    private Instant lastPrune;
    private Instant lastNamesRead;
    private RelationNames lastNames;

    private PositionSampler(CapturedSet set, Catalog catalog, DatabaseAttachment a, DatabaseAdapter adapter, Clock clock) {
        this.set = set;
        this.catalog = catalog;
        this.adapter = adapter;
        this.clock = clock;
        this.every = a.sampleEvery();
        this.lastPrune = clock.instant();
        this.thread = new Thread(this::loop, "rewind-positions-" + set.name());
        thread.setDaemon(true);
    }

    /** Starts sampling {@code a}'s database on {@code set}; close to stop. */
    public static PositionSampler start(CapturedSet set, Catalog catalog, DatabaseAttachment a, DatabaseAdapter adapter, Clock clock) {
        if (a.sampleEvery() == null || a.sampleEvery().isZero() || a.sampleEvery().isNegative()) {
            throw new IllegalArgumentException("sampleEvery must be positive, was " + a.sampleEvery());
        }
        PositionSampler s = new PositionSampler(set, catalog, a, adapter, clock);
        s.thread.start();
        return s;
    }

    private void loop() {
        while (true) {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                if (pauses > 0) {
                    periodsHeldOff++;
                    waitQuietly(every);
                    continue;
                }
                sampling = true;
            }
            try {
                sampleOnce();
            } finally {
                synchronized (this) {
                    sampling = false;
                    notifyAll();
                }
            }
            synchronized (this) {
                if (!stopped) {
                    waitQuietly(every);
                }
            }
        }
    }

    private void waitQuietly(Duration d) {
        try {
            wait(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
            stopped = true;
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Takes one sample now and stores it unless it repeats the last one; true when one was
     * stored. Failures are logged once per outage, never thrown.
     */
    boolean sampleOnce() {
        try {
            if (set.isRestoreUnfinished()) {
                return false; // the volumes are between two lineages
            }
            Optional<PositionSample> s = adapter.sample(set.name(), set::lastSeq).flatMap(this::onItsLineage);
            if (outage != null) {
                LOG.info("sampling positions of set {} resumed", set.name());
                outage = null;
            }
            boolean stored = false;
            if (s.isPresent() && !repeatsLast(s.get())) {
                catalog.databases().insertSamples(List.of(s.get()));
                last = s.get();
                stored = true;
            }
            recordNamesNowAndThen();
            pruneNowAndThen();
            return stored;
        } catch (Exception e) {
            String reason = ConnectionPool.rootMessage(e);
            if (outage == null) {
                LOG.warn("sampling positions of set {} paused: {}; retrying every {}", set.name(), reason, Durations.format(every));
            }
            outage = reason;
            return false;
        }
    }

    /**
     * The sample marked with the lineage its seq is on by the restores recorded now; empty
     * when its seq is one of a restore's own writes (no lineage holds it).
     */
    private Optional<PositionSample> onItsLineage(PositionSample s) {
        long lineageSeq = Lineage.of(catalog.listRestores(set.name()), s.seq()).lineageSeqOf(s.seq());
        return lineageSeq == 0 ? Optional.empty() : Optional.of(s.onLineage(lineageSeq));
    }

    /** Reads the relation names when {@link #NAMES_EVERY} has passed, and stores them when they or their lineage changed. */
    private void recordNamesNowAndThen() throws java.io.IOException {
        Instant now = clock.instant();
        if (lastNamesRead != null && Duration.between(lastNamesRead, now).compareTo(NAMES_EVERY) < 0) {
            return;
        }
        Optional<RelationNames> read = adapter.relationNames(set.name(), set::lastSeq);
        if (read.isEmpty()) {
            lastNamesRead = now;
            return;
        }
        long lineageSeq = Lineage.of(catalog.listRestores(set.name()), read.get().seq()).lineageSeqOf(read.get().seq());
        if (lineageSeq == 0) {
            return; // read before the set's first write or at a seq of a restore's own writes: again at the next sample
        }
        lastNamesRead = now;
        RelationNames names = read.get().onLineage(lineageSeq);
        if (lastNames != null && lastNames.lineageSeq() == names.lineageSeq() && lastNames.namesByFile().equals(names.namesByFile())) {
            return;
        }
        catalog.databases().insertRelationNames(names);
        lastNames = names;
    }

    private boolean repeatsLast(PositionSample s) {
        return last != null && last.seq() == s.seq() && last.durableOrder() == s.durableOrder() && last.boundOrder() == s.boundOrder();
    }

    private void pruneNowAndThen() {
        Instant now = clock.instant();
        if (Duration.between(lastPrune, now).compareTo(PRUNE_EVERY) >= 0) {
            lastPrune = now;
            int pruned = catalog.databases().deleteSamplesBefore(set.name(), set.oldestSeq());
            if (pruned > 0) {
                LOG.debug("set {}: pruned {} position samples older than seq {}", set.name(), pruned, set.oldestSeq());
            }
        }
    }

    /**
     * Holds sampling off until the returned handle is closed (around a coordinated restore);
     * returns once no sample is being taken.
     */
    public AutoCloseable pause() {
        synchronized (this) {
            pauses++;
            while (sampling && Thread.currentThread() != thread) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return new AutoCloseable() {
            private boolean closed;

            @Override
            public void close() {
                synchronized (PositionSampler.this) {
                    if (!closed) {
                        closed = true;
                        pauses--;
                        PositionSampler.this.notifyAll();
                    }
                }
            }
        };
    }

    /** How many periods went by with sampling held off by {@link #pause()}, so far. */
    synchronized long periodsHeldOff() {
        return periodsHeldOff;
    }

    /** Stops sampling and waits for the thread to end. */
    @Override
    public void close() {
        synchronized (this) {
            stopped = true;
            notifyAll();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
