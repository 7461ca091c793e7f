package dev.rewind.volumeset.catalog;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The catalog's schema version: Flyway migrates it (scripts in {@code db/catalog}, history in
 * {@code rewind_schema_history}), but only when it is behind. Starting Flyway (scanning the
 * classpath for scripts, validating every applied one) costs more than a whole read-only
 * command, so opening first asks the history table with one query whether the newest
 * version is already applied, and runs nothing else when it is.
 *
 * <p>The check is deliberately narrow: the schema counts as current only when every
 * recorded migration succeeded and the highest one is exactly {@link #LATEST_VERSION}. A
 * fresh database, a failed migration, or a catalog written by a newer Rewind (higher
 * version) all go to Flyway, which migrates or reports the problem as before.
 */
final class CatalogSchema {
    /** The highest {@code V<n>__*.sql} in {@code db/catalog}; a test keeps the two equal. */
    static final int LATEST_VERSION = 7;
    static final String LOCATION = "db/catalog";
    static final String HISTORY_TABLE = "rewind_schema_history";

    private CatalogSchema() {
    }

    /** Migrates the schema with Flyway unless it is already at {@link #LATEST_VERSION}; true if a migration ran. */
    static boolean migrateIfBehind(DataSource dataSource) {
        if (isCurrent(dataSource)) {
            return false;
        }
        return Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:" + LOCATION)
                .table(HISTORY_TABLE)
                .load()
                .migrate().migrationsExecuted > 0;
    }

    /** Whether the history table says {@link #LATEST_VERSION} is applied and nothing failed; false when in doubt. */
    static boolean isCurrent(DataSource dataSource) {
        try (Connection c = dataSource.getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select \"version\", \"success\" from \"" + HISTORY_TABLE + "\" where \"version\" is not null")) {
            int highest = 0;
            while (rs.next()) {
                if (!rs.getBoolean(2)) {
                    return false;
                }
                highest = Math.max(highest, Integer.parseInt(rs.getString(1).trim()));
            }
            return highest == LATEST_VERSION;
        } catch (SQLException | NumberFormatException e) {
            return false; // no history table yet, or one Flyway must judge
        }
    }
}
