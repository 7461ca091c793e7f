package dev.rewind.scheduler;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.quartz.utils.ConnectionProvider;

/**
 * Hands Quartz's job store connections from the catalog's pool. The pool belongs to the
 * catalog: shutting the scheduler down leaves it open.
 */
final class CatalogConnectionProvider implements ConnectionProvider {
    private final DataSource dataSource;

    CatalogConnectionProvider(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return dataSource.getConnection();
    }

    @Override
    public void initialize() {
        // the catalog's pool is open already
    }

    @Override
    public void shutdown() {
        // the catalog closes its pool
    }
}
