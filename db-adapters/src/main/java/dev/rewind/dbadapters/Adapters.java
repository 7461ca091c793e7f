package dev.rewind.dbadapters;

import dev.rewind.dbadapters.api.ConnectionPool;
import dev.rewind.dbadapters.api.Credentials;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.LogFiles;
import dev.rewind.dbadapters.h2.H2Adapter;
import dev.rewind.dbadapters.mariadb.MariaDbAdapter;
import dev.rewind.dbadapters.postgresql.PostgresAdapter;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.nio.file.Path;
import javax.sql.DataSource;

/**
 * The one place that names the engine adapters: opens the adapter for an attached database,
 * chosen by its engine, over a HikariCP pool ({@link ConnectionPool#open}) that the adapter
 * owns and closes. Opening connects to nothing (the database may be stopped).
 */
public final class Adapters {
    private Adapters() {
    }

    /** The adapter for {@code a}'s database; the caller closes it. */
    public static DatabaseAdapter open(DatabaseAttachment a) {
        return open(a, null);
    }

    /**
     * The adapter for {@code a}'s database that reads its log from {@code logFiles} (its
     * {@code search}, {@code locate} and the like never ask the server), or, with null, asks
     * the server; the caller closes it. H2 keeps no log to read.
     */
    public static DatabaseAdapter open(DatabaseAttachment a, LogFiles logFiles) {
        Engine engine = Engine.ofLabel(a.engine());
        Credentials credentials = new Credentials(a.user(), a.passwordFile() == null ? null : Path.of(a.passwordFile()), a.passwordEnv());
        DataSource pool = ConnectionPool.open(engine, a.jdbcUrl(), credentials, "rewind-db-" + a.setName());
        try {
            return switch (engine) {
                case POSTGRESQL -> logFiles == null ? new PostgresAdapter(a, pool) : new PostgresAdapter(a, pool, logFiles);
                case MARIADB -> logFiles == null ? new MariaDbAdapter(a, pool) : new MariaDbAdapter(a, pool, logFiles);
                case H2 -> new H2Adapter(a, pool);
            };
        } catch (RuntimeException e) {
            closePool(pool);
            throw e;
        }
    }

    private static void closePool(DataSource pool) {
        if (pool instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // the adapter could not be built; its pool never connected
            }
        }
    }
}
