package dev.rewind.cli.daemon;

import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.scheduler.RewindScheduler;
import dev.rewind.scheduler.ScheduledJob;
import dev.rewind.scheduler.SetTasks;
import dev.rewind.volumeset.catalog.Catalog;
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
 * period-cut job. The job store is in the catalog, so the schedule outlives the daemon; a job
 * whose set is not open does nothing.
 */
public final class DaemonSchedule implements AutoCloseable {
    /** How often the daemon checkpoints each set. */
    public static final Duration CHECKPOINT_EVERY = Duration.ofSeconds(30);

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
        };
        return new DaemonSchedule(RewindScheduler.start(catalog, tasks, clock), catalog);
    }

    /** Schedules the set's checkpoint and, as its settings say, its period cut (removed when it has none). */
    public void scheduleSet(String set) {
        SetSettings settings = catalog.settings(set);
        scheduler.scheduleCheckpoint(set, CHECKPOINT_EVERY);
        scheduler.schedulePeriodCut(set, settings.cutEvery() == null ? Duration.ZERO : settings.cutEvery());
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
