package dev.rewind.dbadapters.postgresql;

import dev.rewind.dbadapters.api.ConnectionPool;
import dev.rewind.dbadapters.api.ServerSettings;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a running PostgreSQL server says of itself that a private copy on a sandbox needs: its
 * data directory, configuration files, socket directories, version, and where its programs
 * are (Debian's {@code /usr/lib/postgresql/MAJOR/bin}, else {@code pg_config --bindir}).
 */
final class PostgresServerSettings {
    static final List<String> NAMES = List.of("data_directory", "config_file", "hba_file", "ident_file", "unix_socket_directories",
            "server_version_num", "port");
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    private PostgresServerSettings() {
    }

    static Map<String, String> read(Connection c) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : NAMES) {
            try (PreparedStatement s = c.prepareStatement("select current_setting(?)")) {
                s.setString(1, name);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    out.put(name, rs.getString(1));
                }
            } catch (SQLException e) {
                if (INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
                    String role = c.getMetaData().getUserName();
                    throw new RewindException("role " + role + " may not read the server's setting " + name + " ("
                            + ConnectionPool.rootMessage(e) + "); as a superuser run: GRANT pg_read_all_settings TO " + role, e);
                }
                throw e;
            }
        }
        int major = Integer.parseInt(out.get("server_version_num")) / 10_000;
        Path bin = binDir(major);
        out.put(ServerSettings.BIN_DIR, bin.toString());
        out.put(ServerSettings.SERVER_BINARY, bin.resolve("postgres").toString());
        return out;
    }

    /** Where the {@code postgres} program of this major version is, or a RewindException saying what to install. */
    static Path binDir(int major) {
        Path debian = Path.of("/usr/lib/postgresql", Integer.toString(major), "bin");
        if (Files.isExecutable(debian.resolve("postgres"))) {
            return debian;
        }
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 && Files.isExecutable(Path.of(text, "postgres"))) {
                return Path.of(text);
            }
        } catch (IOException e) {
            // no pg_config on PATH: say what to install below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new RewindException("the PostgreSQL " + major + " server program (postgres) is not in " + debian
                + " nor in pg_config --bindir on this host; install postgresql-" + major + " here");
    }
}
