package dev.rewind.cli.daemon;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.cli.db.ConsistentBookmark;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.cli.datadir.CatalogCapture;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.volumeset.Sizes;
import dev.rewind.scheduler.RewindScheduler;
import dev.rewind.scheduler.ScheduledJob;
import dev.rewind.scheduler.SetTasks;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.SetSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The daemon's jobs: a {@link RewindScheduler} on the catalog whose {@link SetTasks} act on
 * the daemon's open sets (a period cut is {@code cut(PERIOD)}, a checkpoint is
 * {@code checkpoint()}). Every open set gets a checkpoint job every {@link #CHECKPOINT_EVERY}
 * (its own checkpoint thread is off) and, when its settings have {@code --cut-every}, a
 * period-cut job, and, when its attached database has {@code --consistent-every}, a
 * consistent-bookmark job (named {@code auto-<UTC time>}, through a fresh adapter each time).
 * The job store is in the catalog, so the schedule outlives the daemon; a job whose set is not
 * open does nothing.
 */
public final class DaemonSchedule implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DaemonSchedule.class);
    /** How often the daemon checkpoints each set. */
    public static final Duration CHECKPOINT_EVERY = Duration.ofSeconds(30);
    /** How often a set with retention rules after its every-write horizon has a retention pass. */
    public static final Duration RETAIN_EVERY = Duration.ofMinutes(1);

    private final RewindScheduler scheduler;
    private final Catalog catalog;

    private DaemonSchedule(RewindScheduler scheduler, Catalog catalog) {
        this.scheduler = scheduler;
        this.catalog = catalog;
    }

    /** Starts the scheduler over {@code sets} (read at each firing, so sets opened later are served). */
    public static DaemonSchedule start(Catalog catalog, Map<String, CapturedSet> sets, Clock clock) {
        SetTasks tasks = new SetTasks() {
            @Override
            public void cut(String set) throws Exception {
                CapturedSet open = sets.get(set);
                if (open != null) {
                    open.cut(CutReason.PERIOD);
                }
            }

            @Override
            public void checkpoint(String set) throws Exception {
                CapturedSet open = sets.get(set);
                if (open != null) {
                    open.checkpoint();
                }
            }

            @Override
            public void consistentBookmark(String set) throws Exception {
                CapturedSet open = sets.get(set);
                if (open == null) {
                    return;
                }
                DatabaseAttachment attachment = AttachedDatabase.of(catalog, set);
                try (DatabaseAdapter adapter = AttachedDatabase.open(attachment)) {
                    ConsistentBookmark.take(catalog, open, adapter, ConsistentBookmark.autoName(clock.instant()), clock);
                }
            }

            @Override
            public void retain(String set) throws Exception {
                CapturedSet open = sets.get(set);
                if (open == null || open.interruptedRestore().isPresent()) {
                    return;
                }
                RetentionPlan plan = open.planRetention();
                if (plan.overMaxBytes() > 0) {
                    LOG.warn("set {}: its secondary stays {} over its size limit of {}: nothing more may go (the every-write history, the "
                            + "newest point and points being read hold the rest)", set, Sizes.format(plan.overMaxBytes()),
                            Sizes.format(open.maxSecondaryBytes()));
                }
                if (plan.isEmpty()) {
                    return;
                }
                Retention.Result r = CatalogCapture.retain(catalog, open, plan);
                LOG.info("set {}: retention dropped {} oldest transaction(s), merged {} run(s), {} point(s) gone, {} freed; "
                        + "the oldest point is now seq {}", set, r.dropped(), r.merged(), r.pointsGone(), Sizes.format(r.bytesFreed()),
                        open.oldestSeq());
            }
        };
        return new DaemonSchedule(RewindScheduler.start(catalog, tasks, clock), catalog);
    }

    /**
     * Schedules the set's checkpoint and, as its settings and its attached database say, its
     * period cut and its consistent bookmark (each removed when it has none).
     */
    public void scheduleSet(String set) {
        SetSettings settings = catalog.settings(set);
        scheduler.scheduleCheckpoint(set, CHECKPOINT_EVERY);
        scheduler.schedulePeriodCut(set, settings.cutEvery() == null ? Duration.ZERO : settings.cutEvery());
        Duration consistentEvery = catalog.databases().attachment(set).map(DatabaseAttachment::consistentEvery).orElse(null);
        scheduler.scheduleConsistentBookmark(set, consistentEvery == null ? Duration.ZERO : consistentEvery);
        scheduler.scheduleRetention(set, settings.keepRules() == null && settings.keepMaxBytes() == 0 ? Duration.ZERO : RETAIN_EVERY);
    }

    /** Removes the set's jobs (it is no longer served). */
    public void unscheduleSet(String set) {
        scheduler.unscheduleSet(set);
    }

    public List<ScheduledJob> jobs(Optional<String> set) {
        return scheduler.jobs(set);
    }

    /** Stops firing and waits for running jobs; the sets stay open. */
    @Override
    public void close() {
        scheduler.close();
    }
}
