package dev.rewind.scheduler;

import static dev.rewind.scheduler.RecordingTasks.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.postgres.PostgresServer;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.catalog.PvRecord;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog and the scheduler's job store on a real PostgreSQL server: the catalog's and the
 * job store's Flyway migrations run there, catalog rows go in and come back, a period cut
 * fires, and the schedule is still there after a restart of the scheduler, of the catalog and
 * of the server itself.
 */
class SchedulerPostgresIT {
    private static PostgresServer postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() {
        postgres = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() {
        if (postgres != null) {
            postgres.close();
        }
    }

    private static Catalog openCatalog() {
        return Catalog.open(new CatalogConfig(postgres.jdbcUrl(), PostgresServer.USER, "", Duration.ofSeconds(10)));
    }

    @Test
    void catalogAndJobStoreLiveOnPostgresqlAndTheScheduleSurvivesRestarts() throws InterruptedException {
        RecordingTasks tasks = new RecordingTasks();
        List<ScheduledJob> before;
        try (Catalog catalog = openCatalog()) {
            PvRecord pv = new PvRecord("disk1", UUID.randomUUID(), dir.resolve("disk1.img"), 64L << 20, 4096, null, 0);
            catalog.insertPv(pv);
            assertEquals(Optional.of(pv), catalog.findPv("disk1"));
            RecordingTasks.insertSet(catalog, "shop", dir.resolve("secondary"));
            assertEquals(List.of("shop"), catalog.listSets().stream().map(s -> s.name()).toList());

            try (RewindScheduler scheduler = RewindScheduler.start(catalog, tasks, Clock.systemUTC())) {
                scheduler.schedulePeriodCut("shop", Duration.ofSeconds(1));
                scheduler.scheduleCheckpoint("shop", Duration.ofHours(1));
                await("two period cuts on the PostgreSQL job store", () -> tasks.count("cut", "shop") >= 2);
                before = scheduler.jobs(Optional.of("shop"));
            }
        }
        assertEquals("2", postgres.psql("select count(*) from qrtz_triggers where sched_name = 'rewind'").out().strip(),
                "the triggers are rows in the catalog database");
        assertEquals("1", postgres.psql("select max(version) from rewind_scheduler_schema_history").out().strip());

        postgres.restart(); // the database server goes down and up as well
        long cutsBefore = tasks.count("cut", "shop");
        try (Catalog catalog = openCatalog(); RewindScheduler scheduler = RewindScheduler.start(catalog, tasks, Clock.systemUTC())) {
            assertEquals(List.of("shop"), catalog.listSets().stream().map(s -> s.name()).toList(), "the catalog kept its rows");
            List<ScheduledJob> after = scheduler.jobs(Optional.of("shop"));
            assertEquals(List.of("checkpoint", "cut"), after.stream().map(ScheduledJob::kind).toList());
            assertEquals(before.get(0), after.get(0), "the hourly checkpoint kept its next fire time");
            assertEquals(Duration.ofSeconds(1), after.get(1).every());
            assertNotNull(after.get(1).previousFire(), "the cut's last run is on record");

            await("period cuts after the restart", () -> tasks.count("cut", "shop") >= cutsBefore + 2);
            scheduler.unscheduleSet("shop");
            assertTrue(scheduler.jobs(Optional.empty()).isEmpty());
        }
    }
}
