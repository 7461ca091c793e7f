package dev.rewind.dbadapters.api;

/**
 * The names under which {@link DatabaseAdapter#serverSettings()} reports what is not a server
 * variable of the engine's own: where its server program is. The rest are the engine's
 * variable names ({@code data_directory}, {@code datadir}, ...).
 */
public final class ServerSettings {
    /** The server program: PostgreSQL's {@code postgres}, MariaDB's {@code mariadbd}. */
    public static final String SERVER_BINARY = "server_binary";
    /** The directory of the server's programs (PostgreSQL: where {@code postgres} and {@code pg_ctl} are). */
    public static final String BIN_DIR = "bin_dir";

    private ServerSettings() {
    }
}
