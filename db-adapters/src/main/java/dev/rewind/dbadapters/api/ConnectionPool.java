package dev.rewind.dbadapters.api;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.rewind.volumeset.RewindException;
import java.time.Duration;

/**
 * The small HikariCP pool an adapter talks to its database through. Opening it does not
 * connect: the database may be stopped (a coordinated restore starts it), so the first
 * connection is taken when needed and fails within {@link #CONNECT_TIMEOUT}.
 */
public final class ConnectionPool {
    /** How long a connection attempt may take before the adapter says the database is unreachable. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private ConnectionPool() {
    }

    public static HikariDataSource open(Engine engine, String jdbcUrl, Credentials credentials, String poolName) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(driverUrl(engine, jdbcUrl));
        if (credentials.user() != null) {
            config.setUsername(credentials.user());
        }
        String password = credentials.password();
        if (password != null) {
            config.setPassword(password);
        }
        config.setPoolName(poolName);
        config.setMaximumPoolSize(2);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(CONNECT_TIMEOUT.toMillis());
        config.setValidationTimeout(Math.min(CONNECT_TIMEOUT.toMillis(), 3_000));
        config.setInitializationFailTimeout(-1); // do not connect now
        config.setIdleTimeout(60_000);
        config.setMaxLifetime(10 * 60_000);
        try {
            return new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new RewindException("cannot use JDBC URL for " + engine.label() + ": " + rootMessage(e), e);
        }
    }

    /**
     * The URL as the driver takes it: the MariaDB driver serves a {@code jdbc:mysql:} URL only
     * when it carries {@code permitMysqlScheme}, so that option is added to such a URL.
     */
    static String driverUrl(Engine engine, String jdbcUrl) {
        String scheme = "jdbc:mysql:";
        if (engine != Engine.MARIADB || !jdbcUrl.regionMatches(true, 0, scheme, 0, scheme.length()) || jdbcUrl.contains("permitMysqlScheme")) {
            return jdbcUrl;
        }
        String url = scheme + jdbcUrl.substring(scheme.length());
        return url + (url.contains("?") ? "&" : "?") + "permitMysqlScheme";
    }

    /** The innermost cause's message, on one line (for errors shown to users). */
    public static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return msg.split("\\R", 2)[0];
    }
}
