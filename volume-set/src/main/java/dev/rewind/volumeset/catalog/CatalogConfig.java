package dev.rewind.volumeset.catalog;

import dev.rewind.volumeset.RewindException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Where the catalog lives. The default is an H2 file inside the data dir; a PostgreSQL
 * JDBC URL serves shared deployments. The password never travels on the command line:
 * it comes from the data dir's config file or the environment.
 */
public record CatalogConfig(String jdbcUrl, String user, String password, Duration connectTimeout) {

    public CatalogConfig {
        if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:")) {
            throw new RewindException("catalog URL '" + jdbcUrl + "' is not a JDBC URL; use e.g. jdbc:postgresql://127.0.0.1:5432/rewind");
        }
        if (!jdbcUrl.startsWith("jdbc:h2:") && !jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new RewindException("catalog URL '" + redact(jdbcUrl) + "' names an unsupported database; use H2 (jdbc:h2:...) or PostgreSQL (jdbc:postgresql:...)");
        }
        if (connectTimeout == null || connectTimeout.isNegative() || connectTimeout.isZero()) {
            connectTimeout = Duration.ofSeconds(5);
        }
    }

    /** The default catalog: an H2 file in {@code dataDir/catalog}, each commit written at once (WRITE_DELAY=0) so a killed process loses none. */
    public static CatalogConfig h2In(Path dataDir) {
        Path file = dataDir.toAbsolutePath().resolve("catalog").resolve("rewind");
        return new CatalogConfig("jdbc:h2:file:" + file + ";WRITE_DELAY=0", "rewind", "", Duration.ofSeconds(5));
    }

    public boolean isH2() {
        return jdbcUrl.startsWith("jdbc:h2:");
    }

    /** The URL with any password parameter hidden, for messages and logs. */
    public String redactedUrl() {
        return redact(jdbcUrl);
    }

    static String redact(String url) {
        return url == null ? null : url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }

    @Override
    public String toString() {
        return "CatalogConfig[" + redactedUrl() + ", user=" + user + "]";
    }
}
