package dev.rewind.dbadapters.api;

import dev.rewind.volumeset.RewindException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import javax.sql.DataSource;

/**
 * The JDBC work every adapter shares: taking a connection with errors turned into one line a
 * DBA can act on (wrong credentials, unreachable, a failed query), waiting for a database to
 * accept connections, and running validation queries.
 */
public final class Jdbc {
    private static final Duration POLL = Duration.ofMillis(200);

    /** Work on one connection. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    private final DataSource pool;
    private final String target;

    /** {@code target} names the database in messages, e.g. {@code PostgreSQL at 127.0.0.1:5432/shop}. */
    public Jdbc(DataSource pool, String target) {
        this.pool = pool;
        this.target = target;
    }

    public String target() {
        return target;
    }

    /** Runs work on a pooled connection; any SQL error becomes a RewindException saying what to do. */
    public <T> T withConnection(String doing, SqlWork<T> work) {
        try (Connection c = pool.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new RewindException(describe(doing, e), e);
        }
    }

    /** One line for a failed JDBC call: the kind of failure (by SQLState) and what to check. */
    public String describe(String doing, SQLException e) {
        String state = sqlState(e);
        String reason = ConnectionPool.rootMessage(e);
        if (state != null && state.startsWith("28")) {
            return target + " refused the login while " + doing + ": " + reason
                    + "; check --user and the password file or variable (rewind db show)";
        }
        if (state != null && state.startsWith("08") || reason.contains("Connection refused") || reason.contains("timed out")
                || reason.contains("Connection is not available")) {
            return "cannot reach " + target + " while " + doing + ": " + reason + "; is the database running and the JDBC URL right?";
        }
        return target + " failed while " + doing + ": " + reason;
    }

    private static String sqlState(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                return s.getSQLState();
            }
        }
        return null;
    }

    /** Polls with {@code SELECT 1} until the database answers, or refuses after {@code timeout} with the last error. */
    public void awaitAcceptingConnections(Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        SQLException last = null;
        while (true) {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("SELECT 1");
                return;
            } catch (SQLException e) {
                last = e;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new RewindException(target + " did not accept connections within " + timeout.toSeconds() + "s: "
                        + ConnectionPool.rootMessage(last) + "; see the database's log");
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RewindException("interrupted while waiting for " + target + " to accept connections");
            }
        }
    }

    /**
     * Runs a check query (see {@link CheckResult}): a query that fails is a check that fails,
     * with the database's error; not reaching the database is a RewindException.
     */
    public CheckResult check(String sql) {
        return withConnection("running a check", c -> {
            try (Statement s = c.createStatement()) {
                if (!s.execute(sql)) {
                    return new CheckResult(false, "returned no rows (not a query)");
                }
                try (ResultSet rs = s.getResultSet()) {
                    if (!rs.next()) {
                        return new CheckResult(false, "returned no rows");
                    }
                    Object first = rs.getObject(1);
                    boolean holds = first != null && !Boolean.FALSE.equals(first) && !(first instanceof Number n && n.doubleValue() == 0)
                            && !(first instanceof String text && (text.isEmpty() || text.equals("0") || text.equalsIgnoreCase("false")
                                    || text.equalsIgnoreCase("f")));
                    return new CheckResult(holds, "returned " + first);
                }
            } catch (SQLException e) {
                return new CheckResult(false, ConnectionPool.rootMessage(e));
            }
        });
    }

    /**
     * Runs a validation query: it passes when it runs and its first row's first column (if
     * it returns rows) is not false, 0 or null.
     */
    public void validate(String sql) {
        String failure = withConnection("validating", c -> {
            try (Statement s = c.createStatement()) {
                if (!s.execute(sql)) {
                    return null;
                }
                try (ResultSet rs = s.getResultSet()) {
                    if (!rs.next()) {
                        return null;
                    }
                    Object first = rs.getObject(1);
                    if (first == null || Boolean.FALSE.equals(first) || first instanceof Number n && n.doubleValue() == 0) {
                        return "returned " + first;
                    }
                    return null;
                }
            } catch (SQLException e) {
                return "failed: " + ConnectionPool.rootMessage(e);
            }
        });
        if (failure != null) {
            throw new RewindException("validation query '" + sql + "' " + failure);
        }
    }
}
