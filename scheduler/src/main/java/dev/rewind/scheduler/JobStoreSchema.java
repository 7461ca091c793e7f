package dev.rewind.scheduler;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The job store's tables in the catalog database: Flyway applies {@code db/scheduler/h2} or
 * {@code db/scheduler/postgresql} and records them in its own history table, so the
 * catalog's migrations ({@code rewind_schema_history}) and these never see each other's
 * versions. The catalog's tables are already there when this first runs, so the empty
 * history starts from a baseline at version 0 and every script of ours is applied.
 */
final class JobStoreSchema {
    static final String LOCATION = "db/scheduler/";
    static final String HISTORY_TABLE = "rewind_scheduler_schema_history";

    private JobStoreSchema() {
    }

    /** Creates or upgrades the job store's tables; true if a migration ran. */
    static boolean migrate(DataSource dataSource, boolean h2) {
        return Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:" + LOCATION + (h2 ? "h2" : "postgresql"))
                .table(HISTORY_TABLE)
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .load()
                .migrate().migrationsExecuted > 0;
    }
}
