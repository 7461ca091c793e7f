package dev.rewind.dbadapters.api;

import dev.rewind.volumeset.RewindException;
import java.util.Locale;

/** The database engines Rewind has an adapter for, told apart by the JDBC URL. */
public enum Engine {
    POSTGRESQL("postgresql"),
    MARIADB("mariadb"),
    H2("h2");

    private final String label;

    Engine(String label) {
        this.label = label;
    }

    /** The engine's name as the catalog stores it and users see it. */
    public String label() {
        return label;
    }

    /** The engine of a JDBC URL: {@code jdbc:postgresql:}, {@code jdbc:mariadb:} or {@code jdbc:mysql:}, {@code jdbc:h2:}. */
    public static Engine ofJdbcUrl(String url) {
        String u = url == null ? "" : url.strip().toLowerCase(Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        if (u.startsWith("jdbc:mariadb:") || u.startsWith("jdbc:mysql:")) {
            return MARIADB;
        }
        if (u.startsWith("jdbc:h2:")) {
            return H2;
        }
        throw new RewindException("JDBC URL '" + url + "' names no database Rewind knows; give jdbc:postgresql://HOST:PORT/DB, "
                + "jdbc:mariadb://HOST:PORT/DB (or jdbc:mysql://...) or jdbc:h2:...");
    }

    /** The engine of a stored label. */
    public static Engine ofLabel(String label) {
        for (Engine e : values()) {
            if (e.label.equals(label)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown engine " + label);
    }
}
