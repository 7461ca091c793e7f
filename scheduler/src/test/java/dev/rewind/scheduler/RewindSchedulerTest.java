package dev.rewind.scheduler;

import dev.rewind.testfixtures.clock.MovingClock;
import static dev.rewind.scheduler.RecordingTasks.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The scheduler on an H2 catalog file: schedules, fires, survives restarts, catches up once. */
class RewindSchedulerTest {
    private static final Duration HOUR = Duration.ofHours(1);
    private static final Duration SECOND = Duration.ofSeconds(1);

    @TempDir
    Path dataDir;

    private final RecordingTasks tasks = new RecordingTasks();
    private final List<AutoCloseable> open = new ArrayList<>();
    private Catalog catalog;

    @BeforeEach
    void openCatalog() {
        catalog = openCatalogAgain();
        RecordingTasks.insertSet(catalog, "shop", dataDir.resolve("secondary-shop"));
        RecordingTasks.insertSet(catalog, "bank", dataDir.resolve("secondary-bank"));
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close(); // closing twice is harmless for both
        }
    }

    private Catalog openCatalogAgain() {
        Catalog c = Catalog.open(CatalogConfig.h2In(dataDir));
        open.add(c);
        return c;
    }

    private RewindScheduler start(Clock clock) {
        RewindScheduler s = RewindScheduler.start(catalog, tasks, clock);
        open.add(s);
        return s;
    }

    private RewindScheduler start() {
        return start(Clock.systemUTC());
    }

    @Test
    void scheduledJobsAreListedWithTheirPeriodAndNextFireTime() {
        MovingClock clock = MovingClock.at(Instant.now());
        RewindScheduler scheduler = start(clock);
        scheduler.schedulePeriodCut("shop", HOUR);
        scheduler.scheduleCheckpoint("shop", Duration.ofMinutes(10));
        scheduler.schedulePeriodCut("bank", Duration.ofMinutes(30));

        List<ScheduledJob> all = scheduler.jobs(Optional.empty());
        assertEquals(List.of("bank/cut", "shop/checkpoint", "shop/cut"), all.stream().map(j -> j.set() + "/" + j.kind()).toList());
        ScheduledJob shopCut = all.get(2);
        assertEquals(HOUR, shopCut.every());
        assertEquals(clock.instant().plus(HOUR).toEpochMilli(), shopCut.nextFire().toEpochMilli(), "first fire one period after scheduling, by the Clock");
        assertNull(shopCut.previousFire(), "never ran");
        assertEquals(Duration.ofMinutes(10), all.get(1).every());

        assertEquals(List.of("checkpoint", "cut"), scheduler.jobs(Optional.of("shop")).stream().map(ScheduledJob::kind).toList());
        assertEquals(List.of(), scheduler.jobs(Optional.of("nosuchset")));
    }

    @Test
    void aPeriodCutAndACheckpointFireOnSchedule() throws InterruptedException {
        RewindScheduler scheduler = start();
        scheduler.schedulePeriodCut("shop", SECOND);
        scheduler.scheduleCheckpoint("bank", SECOND);

        await("two period cuts of shop and two checkpoints of bank", () -> tasks.count("cut", "shop") >= 2 && tasks.count("checkpoint", "bank") >= 2);
        assertEquals(0, tasks.count("checkpoint", "shop"), "shop has no checkpoint job");
        assertEquals(0, tasks.count("cut", "bank"), "bank has no cut job");
        ScheduledJob cut = scheduler.jobs(Optional.of("shop")).get(0);
        assertNotNull(cut.previousFire(), "the job store recorded the run");
        assertTrue(cut.nextFire().isAfter(cut.previousFire()), cut.toString());
    }

    @Test
    void theScheduleSurvivesARestartWithItsNextFireTime() {
        RewindScheduler first = start();
        first.schedulePeriodCut("shop", HOUR);
        first.scheduleCheckpoint("shop", Duration.ofMinutes(5));
        List<ScheduledJob> before = first.jobs(Optional.empty());
        first.close();
        catalog.close();

        catalog = openCatalogAgain();
        RewindScheduler second = start();
        assertEquals(before, second.jobs(Optional.empty()));
    }

    @Test
    void schedulingTheSamePeriodAgainKeepsTheNextFireTimeAndANewPeriodReplacesIt() {
        MovingClock clock = MovingClock.at(Instant.now());
        RewindScheduler first = start(clock);
        first.schedulePeriodCut("shop", HOUR);
        Instant next = first.jobs(Optional.of("shop")).get(0).nextFire();
        first.close();

        clock.advance(Duration.ofMinutes(7));
        RewindScheduler second = start(clock); // the daemon re-applies every set's settings at start
        second.schedulePeriodCut("shop", HOUR);
        assertEquals(next, second.jobs(Optional.of("shop")).get(0).nextFire(), "same period: schedule untouched");

        second.schedulePeriodCut("shop", Duration.ofMinutes(20));
        ScheduledJob replaced = second.jobs(Optional.of("shop")).get(0);
        assertEquals(Duration.ofMinutes(20), replaced.every());
        assertEquals(clock.instant().plus(Duration.ofMinutes(20)).toEpochMilli(), replaced.nextFire().toEpochMilli());
        assertEquals(1, second.jobs(Optional.empty()).size(), "replaced, not added");
    }

    @Test
    void afterTenPeriodsDownOneCatchUpRunsNotAStorm() throws Exception {
        RewindScheduler first = start();
        first.schedulePeriodCut("shop", SECOND);
        await("a first period cut", () -> tasks.count("cut", "shop") >= 1);
        first.close();

        passWhileDown("cut/shop", SECOND.multipliedBy(10)); // ten periods with nothing running
        int before = tasks.runs.size();
        Instant restart = Instant.now();
        RewindScheduler second = start();

        await("the catch-up cut and the next period's cut", () -> tasks.runs.size() >= before + 2);
        Instant startTime = triggerStartTime("cut/shop");
        assertFalse(startTime.isBefore(restart.minusMillis(1)),
                "the missed fire times were replaced by one run now: trigger start " + startTime + ", restart " + restart);
        Instant nextRegular = startTime.plus(SECOND);
        List<RecordingTasks.Run> catchUps = tasks.runs.subList(before, tasks.runs.size()).stream()
                .filter(r -> r.at().isBefore(nextRegular.minusMillis(10))).toList();
        assertEquals(1, catchUps.size(), "runs before the first regular period after the restart: " + catchUps);
        assertEquals(SECOND, second.jobs(Optional.of("shop")).get(0).every(), "the period is unchanged");
    }

    @Test
    void aConsistentBookmarkJobIsListedFiresAndIsRemovedByPeriodZero() throws InterruptedException {
        RewindScheduler scheduler = start();
        scheduler.scheduleConsistentBookmark("shop", SECOND);
        scheduler.schedulePeriodCut("shop", HOUR);

        assertEquals(List.of("consistent-bookmark", "cut"), scheduler.jobs(Optional.of("shop")).stream().map(ScheduledJob::kind).toList());
        await("two consistent bookmarks of shop", () -> tasks.count("consistent-bookmark", "shop") >= 2);
        assertEquals(0, tasks.count("cut", "shop"), "the cut's period is an hour");

        scheduler.scheduleConsistentBookmark("shop", Duration.ZERO);
        assertEquals(List.of("cut"), scheduler.jobs(Optional.of("shop")).stream().map(ScheduledJob::kind).toList());
        scheduler.scheduleConsistentBookmark("bank", HOUR);
        scheduler.unscheduleSet("bank");
        assertEquals(List.of(), scheduler.jobs(Optional.of("bank")), "unscheduling a set removes its consistent-bookmark job too");
    }

    @Test
    void unscheduleSetRemovesEveryJobOfThatSetOnly() {
        RewindScheduler scheduler = start();
        scheduler.schedulePeriodCut("shop", HOUR);
        scheduler.scheduleCheckpoint("shop", HOUR);
        scheduler.schedulePeriodCut("bank", HOUR);

        scheduler.unscheduleSet("shop");
        assertEquals(List.of("bank/cut"), scheduler.jobs(Optional.empty()).stream().map(j -> j.set() + "/" + j.kind()).toList());
        scheduler.unscheduleSet("shop"); // nothing left: fine

        scheduler.schedulePeriodCut("bank", Duration.ZERO);
        assertEquals(List.of(), scheduler.jobs(Optional.empty()), "period zero removes the job");
        scheduler.close();
        assertEquals(List.of(), start().jobs(Optional.empty()), "and it stays removed after a restart");
    }

    @Test
    void aFailingJobIsLoggedOnOneLineAndKeepsItsSchedule() throws InterruptedException {
        Logger log = (Logger) LoggerFactory.getLogger(SetTaskJob.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        log.addAppender(appender);
        try {
            tasks.failing = true;
            RewindScheduler scheduler = start();
            scheduler.schedulePeriodCut("shop", SECOND);
            await("three failing cuts", () -> tasks.count("cut", "shop") >= 3);
            assertEquals(1, scheduler.jobs(Optional.of("shop")).size(), "still scheduled after failing");

            ILoggingEvent event = appender.list.get(0);
            assertEquals(Level.WARN, event.getLevel());
            String line = event.getFormattedMessage();
            assertTrue(line.contains("cut of set 'shop' failed: the set's secondary is full"), line);
            assertFalse(line.contains("\n") || line.contains("second line"), "one line: " + line);
            assertNull(event.getThrowableProxy(), "no stack trace");
        } finally {
            log.detachAppender(appender);
        }
    }

    @Test
    void aSetsJobNeverRunsTwiceAtOnce() throws InterruptedException {
        tasks.busyFor = Duration.ofMillis(2500); // longer than the period, with two pool threads free
        RewindScheduler scheduler = start();
        scheduler.schedulePeriodCut("shop", SECOND);
        await("three cuts", () -> tasks.count("cut", "shop") >= 3);
        assertEquals(1, tasks.mostAtOnce.get(), "cuts of one set overlapped");
    }

    @Test
    void badPeriodsAndUnknownSetsAreOneLineErrorsAndScheduleNothing() {
        RewindScheduler scheduler = start();
        List<RewindException> errors = List.of(
                assertThrows(RewindException.class, () -> scheduler.schedulePeriodCut("shop", Duration.ofSeconds(-5))),
                assertThrows(RewindException.class, () -> scheduler.scheduleCheckpoint("shop", Duration.ofMillis(500))),
                assertThrows(RewindException.class, () -> scheduler.schedulePeriodCut("nosuchset", HOUR)));
        assertTrue(errors.get(0).getMessage().contains("negative"), errors.get(0).getMessage());
        assertTrue(errors.get(1).getMessage().contains("500ms is too short; give 1s or more"), errors.get(1).getMessage());
        assertTrue(errors.get(2).getMessage().contains("no set named 'nosuchset'"), errors.get(2).getMessage());
        errors.forEach(e -> assertFalse(e.getMessage().contains("\n"), e.getMessage()));
        assertEquals(List.of(), scheduler.jobs(Optional.empty()));
    }

    @Test
    void aSecondSchedulerInTheSameProcessIsRefused() {
        start();
        assertThrows(IllegalStateException.class, this::start);
    }

    @Test
    void theJobStoreHasItsOwnSchemaHistoryBesideTheCatalogs() throws SQLException {
        start().close();
        assertEquals(List.of("0", "1"), versions(JobStoreSchema.HISTORY_TABLE), "baseline, then the job store tables");
        List<String> catalogVersions = versions("rewind_schema_history");
        assertTrue(catalogVersions.size() >= 4, "the catalog's history holds its migrations: " + catalogVersions);
        for (int i = 0; i < catalogVersions.size(); i++) {
            assertEquals(String.valueOf(i + 1), catalogVersions.get(i),
                    "the catalog's history is its own (its V1, V2, ... in order): " + catalogVersions);
        }
        catalog.close();
        catalog = openCatalogAgain(); // the catalog still opens as current, and so does the job store
        start().close();
    }

    private List<String> versions(String historyTable) throws SQLException {
        List<String> versions = new ArrayList<>();
        try (Connection c = catalog.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("select \"version\" from \"" + historyTable + "\" where \"version\" is not null order by \"installed_rank\"");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                versions.add(rs.getString(1));
            }
        }
        return versions;
    }

    /**
     * Lets {@code downtime} pass for a stopped scheduler's trigger: its start, previous and next
     * fire times move that far into the past, as if the daemon had been down that long (Quartz
     * fires by the system's time, which a test cannot move).
     */
    private void passWhileDown(String triggerName, Duration downtime) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("update qrtz_triggers set start_time = start_time - ?, "
                     + "prev_fire_time = prev_fire_time - ?, next_fire_time = next_fire_time - ? where sched_name = ? and trigger_name = ?")) {
            for (int i = 1; i <= 3; i++) {
                ps.setLong(i, downtime.toMillis());
            }
            ps.setString(4, QuartzSettings.SCHEDULER_NAME);
            ps.setString(5, triggerName);
            assertEquals(1, ps.executeUpdate(), "trigger " + triggerName + " is in the job store");
        }
    }

    /** When the trigger's current run of periods began (Quartz moves it to "now" when it handles a misfire). */
    private Instant triggerStartTime(String triggerName) throws SQLException {
        try (Connection c = catalog.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("select start_time from qrtz_triggers where sched_name = ? and trigger_name = ?")) {
            ps.setString(1, QuartzSettings.SCHEDULER_NAME);
            ps.setString(2, triggerName);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "trigger " + triggerName + " is in the job store");
                return Instant.ofEpochMilli(rs.getLong(1));
            }
        }
    }

}
