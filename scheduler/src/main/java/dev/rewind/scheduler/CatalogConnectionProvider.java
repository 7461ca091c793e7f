package dev.rewind.scheduler;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.quartz.utils.ConnectionProvider;

/**
 * Hands Quartz's job store connections from the catalog's pool; on H2 each goes through
 * {@link UninterruptibleJdbc}, so that Quartz's interrupts at shutdown cannot close the
 * embedded database. The pool belongs to the catalog: shutting the scheduler down leaves it open.
 */
final class CatalogConnectionProvider implements ConnectionProvider {
    private final DataSource dataSource;
    private final UninterruptibleJdbc shield;

    /** {@code shield} is null where interrupts are harmless (PostgreSQL). */
    CatalogConnectionProvider(DataSource dataSource, UninterruptibleJdbc shield) {
        this.dataSource = dataSource;
        this.shield = shield;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return shield == null ? dataSource.getConnection() : shield.connect(dataSource);
    }

    @Override
    public void initialize() {
        // the catalog's pool is open already
    }

    @Override
    public void shutdown() {
        if (shield != null) {
            shield.close();
        }
    }
}
