package dev.rewind.scheduler;

import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.Catalog;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.SimpleTrigger;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.impl.SchedulerRepository;
import org.quartz.impl.StdSchedulerFactory;
import org.quartz.impl.matchers.GroupMatcher;
import org.quartz.utils.DBConnectionManager;

/**
 * The daemon's schedule of per-set work (period cuts, checkpoints, consistent bookmarks), run by Quartz with its
 * job store in the catalog database: what is scheduled survives a restart, and after downtime
 * each job runs once to catch up, then every period from then on.
 *
 * <p>Each job is durable and keyed {@code <kind>/<set>}; it runs one at a time per key and
 * calls {@link SetTasks}. Scheduling the same period again leaves the next fire time alone, so
 * the daemon can re-apply every set's settings at each start. Quartz keeps one scheduler of a
 * name per process, so there is at most one {@code RewindScheduler} running in a JVM.
 */
public final class RewindScheduler implements AutoCloseable {
    private final Scheduler quartz;
    private final Catalog catalog;
    private final Clock clock;

    private RewindScheduler(Scheduler quartz, Catalog catalog, Clock clock) {
        this.quartz = quartz;
        this.catalog = catalog;
        this.clock = clock;
    }

    /**
     * Creates the job store's tables if needed and starts Quartz on the catalog database.
     * Jobs whose fire times passed while nothing ran fire once now.
     */
    public static RewindScheduler start(Catalog catalog, SetTasks tasks, Clock clock) {
        boolean h2 = catalog.config().isH2();
        synchronized (RewindScheduler.class) {
            if (SchedulerRepository.getInstance().lookup(QuartzSettings.SCHEDULER_NAME) != null) {
                throw new IllegalStateException("a Rewind scheduler is already running in this process; close it first");
            }
            try {
                JobStoreSchema.migrate(catalog.dataSource(), h2);
            } catch (RuntimeException e) {
                throw new RewindException("cannot create the scheduler's tables in the catalog at " + catalog.config().redactedUrl()
                        + ": " + oneLine(e), e);
            }
            DBConnectionManager.getInstance().addConnectionProvider(QuartzSettings.DATA_SOURCE_NAME,
                    new CatalogConnectionProvider(catalog.dataSource(), h2 ? new UninterruptibleJdbc() : null));
            Scheduler quartz = null;
            try {
                quartz = new StdSchedulerFactory(QuartzSettings.properties(h2)).getScheduler();
                quartz.setJobFactory((bundle, scheduler) -> new SetTaskJob(tasks));
                quartz.start();
                return new RewindScheduler(quartz, catalog, clock);
            } catch (SchedulerException | RuntimeException e) {
                if (quartz != null) {
                    try {
                        quartz.shutdown(false);
                    } catch (SchedulerException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw new RewindException("cannot start the scheduler on the catalog at " + catalog.config().redactedUrl() + ": "
                        + oneLine(e), e);
            }
        }
    }

    /**
     * Cuts {@code set} every {@code every}, replacing its period-cut job; {@link Duration#ZERO}
     * removes it. The same period as scheduled keeps the next fire time.
     */
    public void schedulePeriodCut(String set, Duration every) {
        schedule(JobKind.CUT, set, every);
    }

    /** Checkpoints {@code set} every {@code every}, as {@link #schedulePeriodCut} does for cuts. */
    public void scheduleCheckpoint(String set, Duration every) {
        schedule(JobKind.CHECKPOINT, set, every);
    }

    /**
     * Takes a consistent bookmark of {@code set} through its attached database every
     * {@code every}, as {@link #schedulePeriodCut} does for cuts; {@link Duration#ZERO} removes it.
     */
    public void scheduleConsistentBookmark(String set, Duration every) {
        schedule(JobKind.CONSISTENT_BOOKMARK, set, every);
    }

    /** Runs a retention pass on {@code set} every {@code every}, as {@link #schedulePeriodCut} does for cuts. */
    public void scheduleRetention(String set, Duration every) {
        schedule(JobKind.RETAIN, set, every);
    }

    /** Removes every job of {@code set} (for a set being deleted); a set with none is fine. */
    public void unscheduleSet(String set) {
        try {
            boolean removed = false;
            for (JobKind kind : JobKind.values()) {
                removed |= quartz.deleteJob(kind.jobKey(set));
            }
            if (removed) {
                forceCatalog();
            }
        } catch (SchedulerException e) {
            throw storeError("unschedule set '" + set + "'", e);
        }
    }

    /** The scheduled jobs, of one set or all, ordered by set then kind. */
    public List<ScheduledJob> jobs(Optional<String> set) {
        try {
            List<ScheduledJob> jobs = new ArrayList<>();
            for (JobKey key : quartz.getJobKeys(GroupMatcher.jobGroupEquals(JobKind.GROUP))) {
                JobKind.Named named = JobKind.parse(key.getName()).orElse(null);
                if (named == null || set.isPresent() && !set.get().equals(named.set())) {
                    continue;
                }
                for (Trigger trigger : quartz.getTriggersOfJob(key)) {
                    if (trigger instanceof SimpleTrigger simple) {
                        jobs.add(new ScheduledJob(named.set(), named.kind().label(), Duration.ofMillis(simple.getRepeatInterval()),
                                instant(simple.getNextFireTime()), instant(simple.getPreviousFireTime())));
                    }
                }
            }
            jobs.sort(Comparator.comparing(ScheduledJob::set).thenComparing(ScheduledJob::kind));
            return jobs;
        } catch (SchedulerException e) {
            throw storeError("list the schedule", e);
        }
    }

    /** Stops firing, waits for running jobs to finish, and leaves the catalog open. */
    @Override
    public void close() {
        try {
            quartz.shutdown(true);
        } catch (SchedulerException e) {
            throw storeError("stop the scheduler", e);
        }
    }

    private void schedule(JobKind kind, String set, Duration every) {
        validate(kind, set, every);
        try {
            if (every.isZero()) {
                if (quartz.deleteJob(kind.jobKey(set))) {
                    forceCatalog();
                }
                return;
            }
            if (quartz.getTrigger(kind.triggerKey(set)) instanceof SimpleTrigger existing
                    && existing.getRepeatInterval() == every.toMillis() && existing.getNextFireTime() != null) {
                return; // same period: keep the next fire time
            }
            JobDetail job = JobBuilder.newJob(SetTaskJob.class)
                    .withIdentity(kind.jobKey(set))
                    .withDescription(kind.label() + " of set " + set)
                    .storeDurably()
                    .build();
            Trigger trigger = TriggerBuilder.newTrigger()
                    .withIdentity(kind.triggerKey(set))
                    .forJob(job)
                    .startAt(Date.from(clock.instant().plus(every)))
                    .withSchedule(SimpleScheduleBuilder.simpleSchedule()
                            .withIntervalInMilliseconds(every.toMillis())
                            .repeatForever()
                            .withMisfireHandlingInstructionNowWithExistingCount())
                    .build();
            quartz.scheduleJob(job, Set.of(trigger), true);
            forceCatalog();
        } catch (SchedulerException e) {
            throw storeError("schedule the " + kind.label() + " of set '" + set + "'", e);
        }
    }

    private void validate(JobKind kind, String set, Duration every) {
        if (every == null || every.isNegative()) {
            throw new RewindException(kind.label() + " period " + every + " is negative; give a period of "
                    + QuartzSettings.MIN_PERIOD.toSeconds() + "s or more, or 0 to stop");
        }
        if (!every.isZero() && every.compareTo(QuartzSettings.MIN_PERIOD) < 0) {
            throw new RewindException(kind.label() + " period " + every.toMillis() + "ms is too short; give "
                    + QuartzSettings.MIN_PERIOD.toSeconds() + "s or more, or 0 to stop");
        }
        if (!every.isZero() && catalog.findSet(set).isEmpty()) {
            throw new RewindException("no set named '" + set + "'; list the sets with: rewind set list");
        }
    }

    /**
     * Makes the job store's last commit durable: H2 writes each commit at once but forces its
     * file only on {@code CHECKPOINT SYNC} (as the catalog does after its own writes);
     * PostgreSQL commits are durable by themselves.
     */
    private void forceCatalog() {
        if (!catalog.config().isH2()) {
            return;
        }
        try (Connection c = catalog.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT SYNC");
        } catch (SQLException e) {
            throw new RewindException("cannot force the schedule to disk in the catalog at " + catalog.config().redactedUrl() + ": "
                    + oneLine(e), e);
        }
    }

    private RewindException storeError(String what, Exception e) {
        return new RewindException("cannot " + what + " in the catalog at " + catalog.config().redactedUrl() + ": " + oneLine(e), e);
    }

    private static Instant instant(Date date) {
        return date == null ? null : date.toInstant();
    }

    private static String oneLine(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return message.split("\\R", 2)[0];
    }
}
