package dev.rewind.dbadapters.api;

import dev.rewind.volumeset.RewindException;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * What every adapter does the same way over its pool: waiting for the database, validation
 * queries, closing the pool. The engines extend it with what differs.
 */
public abstract class JdbcAdapter implements DatabaseAdapter {
    protected final DataSource pool;
    protected final Jdbc jdbc;

    /** {@code target} names the database in messages, without credentials. */
    protected JdbcAdapter(DataSource pool, String target) {
        this.pool = pool;
        this.jdbc = new Jdbc(pool, target);
    }

    @Override
    public void awaitAcceptingConnections(Duration timeout) {
        jdbc.awaitAcceptingConnections(timeout);
    }

    @Override
    public void validate(String sql) {
        jdbc.validate(sql);
    }

    @Override
    public CheckResult check(String sql) {
        return jdbc.check(sql);
    }

    /** Closes the pool (when it can be closed: a HikariDataSource can). */
    @Override
    public void close() {
        if (pool instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                throw new RewindException("cannot close the connection pool of " + jdbc.target() + ": " + ConnectionPool.rootMessage(e), e);
            }
        }
    }
}
