package dev.rewind.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings back, by itself, a set that stopped taking writes after an I/O error on its write path
 * (a full or read-only secondary), once the cause is gone. While a set is stopped it is retried
 * with a {@link Backoff}: each attempt first probes its secondary (a small file written, forced
 * and deleted in the secondary directory) and, once that works, reopens the set the way
 * {@code rewind set reopen} does, whose recovery keeps every acknowledged write.
 *
 * <p>A set stopped by a read-only file system (ext4 turns itself read-only after an error, and
 * can be mounted writable again only once unmounted and checked) lets go of its secondary at
 * once: it is closed and held offline until it comes back, so that nothing of Rewind keeps that
 * file system busy.
 *
 * <p>The set logged its stop; this logs one line when it is back, with how long it was stopped,
 * and none per failed attempt (those are in {@link #retry}, which {@code rewind status} shows).
 * Time is read from the clock only: {@link #runDue} makes the attempts that are due, and
 * {@link #start} calls it every {@link #TICK} on a thread of its own.
 */
public final class StoppedSetRecovery implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoppedSetRecovery.class);
    /** How often {@link #start}'s thread looks for sets to retry; the backoff decides when they are tried. */
    public static final Duration TICK = Duration.ofMillis(200);
    /** The probe's file in the secondary directory, deleted again by every probe. */
    static final String PROBE_FILE = ".write-probe";
    private static final int PROBE_BYTES = 4096;

    /** How long to wait before each attempt: {@code first}, doubling after each failed one, at most {@code cap}. */
    public record Backoff(Duration first, Duration cap) {
        public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));

        public Backoff {
            if (first == null || cap == null || first.isNegative() || first.isZero() || cap.compareTo(first) < 0) {
                throw new IllegalArgumentException("backoff must start above zero and be capped at no less than its start, got "
                        + first + " to " + cap);
            }
        }

        /** The wait before the attempt that follows {@code failedAttempts} failed ones. */
        public Duration after(int failedAttempts) {
            Duration d = first;
            for (int i = 0; i < failedAttempts && d.compareTo(cap) < 0; i++) {
                d = d.multipliedBy(2);
            }
            return d.compareTo(cap) < 0 ? d : cap;
        }
    }

    /** The daemon's sets, as recovery needs them. */
    public interface ServedSets {
        /** The sets open now. */
        Collection<CapturedSet> open();

        /** The open set of this name, if it is open. */
        Optional<CapturedSet> open(String setName);

        /** Whether the set is held offline (it could not be opened: a reopen that failed puts it there). */
        boolean isOffline(String setName);

        /** Closes the set and opens it again in place, running recovery, as {@code rewind set reopen} does. */
        void reopen(String setName) throws IOException;

        /** Stops serving the set and closes its files, holding it offline with {@code why} until {@link #reopen}. */
        void release(String setName, String why) throws IOException;
    }

    /**
     * A stopped set being retried: why and since when it stopped, the attempts that failed so
     * far (with the last one's reason, null before the first), and when the next one is made.
     */
    public record Retry(String setName, Path secondaryDir, String cause, Instant stoppedSince, int failedAttempts,
                        String lastAttemptFailure, Instant nextAttemptAt, boolean isSecondaryReleased) {
        Retry failed(Exception why, Instant now, Backoff backoff) {
            return new Retry(setName, secondaryDir, cause, stoppedSince, failedAttempts + 1, oneLine(why),
                    now.plus(backoff.after(failedAttempts + 1)), isSecondaryReleased);
        }

        Retry released() {
            return new Retry(setName, secondaryDir, cause, stoppedSince, failedAttempts, lastAttemptFailure, nextAttemptAt, true);
        }
    }

    private final ServedSets sets;
    private final Clock clock;
    private final Backoff backoff;
    private final Map<String, Retry> retries = new ConcurrentHashMap<>();
    private ScheduledExecutorService ticker;

    public StoppedSetRecovery(ServedSets sets, Clock clock, Backoff backoff) {
        this.sets = sets;
        this.clock = clock;
        this.backoff = backoff;
    }

    /** Runs {@link #runDue} every {@link #TICK} on a thread of its own until {@link #close}. */
    public synchronized StoppedSetRecovery start() {
        if (ticker == null) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "rewind-stopped-set-recovery");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleWithFixedDelay(this::runDueLogged, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    private void runDueLogged() {
        try {
            runDue();
        } catch (RuntimeException e) {
            LOG.warn("retrying stopped sets: {}", e.toString());
        }
    }

    /**
     * Notices the sets that stopped since the last call, and makes every attempt that is due by
     * the clock: probe the secondary, then reopen. Returns the sets that came back.
     */
    public List<String> runDue() {
        Instant now = clock.instant();
        for (CapturedSet set : sets.open()) {
            var stopped = set.stopped();
            if (stopped.isPresent() && !retries.containsKey(set.name())) {
                Retry r = new Retry(set.name(), set.record().secondaryDir(), stopped.get().cause(), stopped.get().since(), 0, null,
                        now.plus(backoff.after(0)), false);
                retries.put(r.setName(), isReadOnlyFileSystem(r.cause()) ? release(r) : r);
            }
        }
        List<String> back = new java.util.ArrayList<>();
        for (Retry r : List.copyOf(retries.values())) {
            Optional<CapturedSet> open = sets.open(r.setName());
            if (open.isPresent() && open.get().stopped().isEmpty()) {
                back(r, now, "reopened"); // by hand, in between
                back.add(r.setName());
            } else if (open.isEmpty() && !sets.isOffline(r.setName())) {
                retries.remove(r.setName()); // closed or deleted in between: nothing to bring back
            } else if (!now.isBefore(r.nextAttemptAt())) {
                try {
                    probe(r.secondaryDir());
                    sets.reopen(r.setName());
                    back(r, clock.instant(), "recovered");
                    back.add(r.setName());
                } catch (IOException | RuntimeException e) {
                    retries.put(r.setName(), r.failed(e, now, backoff));
                }
            }
        }
        return back;
    }

    /** Closes the stopped set's files so that its read-only file system can be unmounted, checked and mounted again. */
    private Retry release(Retry r) {
        try {
            sets.release(r.setName(), "stopped after its secondary's file system turned read-only (" + r.cause() + "); its files are "
                    + "closed so that the file system can be unmounted, checked and mounted again, and rewind serve takes the set back "
                    + "by itself once its secondary takes writes");
            return r.released();
        } catch (IOException | RuntimeException e) {
            LOG.warn("set {}: closing its files on a read-only file system: {}", r.setName(), e.toString());
            return r;
        }
    }

    /** Whether an I/O error says the file system is read-only (EROFS), as the JDK words it. */
    static boolean isReadOnlyFileSystem(String cause) {
        return cause != null && cause.contains("Read-only file system");
    }

    private void back(Retry r, Instant now, String how) {
        retries.remove(r.setName());
        Duration stopped = Duration.between(r.stoppedSince(), now);
        LOG.warn("set {} takes writes again, {} with every acknowledged write, after {} stopped ({}; {} failed attempt(s) before)",
                r.setName(), how, human(stopped), r.cause(), r.failedAttempts());
    }

    /** A duration to whole seconds as a person reads it: {@code 45s}, {@code 2m 5s}, {@code 1h 0m 7s}. */
    static String human(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + "s";
        }
        return s < 3600 ? s / 60 + "m " + s % 60 + "s" : s / 3600 + "h " + s % 3600 / 60 + "m " + s % 60 + "s";
    }

    /** The set's retry while it is stopped and being retried. */
    public Optional<Retry> retry(String setName) {
        return Optional.ofNullable(retries.get(setName));
    }

    /**
     * Whether the secondary takes writes again: a small file written, forced and deleted in its
     * directory. Throws the error that says why not (no space, read-only file system).
     */
    static void probe(Path secondaryDir) throws IOException {
        Path probe = secondaryDir.resolve(PROBE_FILE);
        try (FileChannel c = FileChannel.open(probe, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.allocate(PROBE_BYTES);
            while (b.hasRemaining()) {
                c.write(b, b.position());
            }
            c.force(true);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }

    /** Stops retrying (the sets stay as they are). */
    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.shutdown();
            try {
                ticker.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ticker = null;
        }
    }
}
