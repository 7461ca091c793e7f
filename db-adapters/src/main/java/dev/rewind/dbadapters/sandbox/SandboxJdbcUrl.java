package dev.rewind.dbadapters.sandbox;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JDBC URL of a private copy of a database: production's URL with its host and port
 * replaced by {@code 127.0.0.1:PORT}; database, parameters, user and password source stay.
 */
public final class SandboxJdbcUrl {
    private static final Pattern WITH_AUTHORITY = Pattern.compile("^(jdbc:[A-Za-z0-9]+:)//([^/?]*)(.*)$");
    private static final Pattern WITHOUT_AUTHORITY = Pattern.compile("^(jdbc:[A-Za-z0-9]+:)(.*)$");

    private SandboxJdbcUrl() {
    }

    /** {@code jdbc:postgresql://db.example:5432/shop?ssl=true} on port 40123 is {@code jdbc:postgresql://127.0.0.1:40123/shop?ssl=true}. */
    public static String onLoopback(String productionUrl, int port) {
        String url = productionUrl.strip();
        Matcher m = WITH_AUTHORITY.matcher(url);
        if (m.matches()) {
            return m.group(1) + "//127.0.0.1:" + port + m.group(3);
        }
        Matcher bare = WITHOUT_AUTHORITY.matcher(url);
        if (bare.matches()) {
            return bare.group(1) + "//127.0.0.1:" + port + "/" + bare.group(2);
        }
        throw new IllegalArgumentException("not a JDBC URL: " + productionUrl);
    }

    /** The database name of a JDBC URL with an authority ({@code shop} of {@code jdbc:postgresql://h:5432/shop?x=y}), or empty. */
    public static String databaseName(String url) {
        Matcher m = WITH_AUTHORITY.matcher(url.strip());
        if (!m.matches()) {
            return "";
        }
        String rest = m.group(3);
        int q = rest.indexOf('?');
        rest = q < 0 ? rest : rest.substring(0, q);
        return rest.startsWith("/") ? rest.substring(1) : rest;
    }
}
