package dev.rewind.dbadapters.mariadb;

import dev.rewind.dbadapters.api.ServerSettings;
import dev.rewind.volumeset.RewindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a running MariaDB (or MySQL) server says of itself that a second server opening the
 * same files needs: its data and log paths, the InnoDB file layout it created them with, the
 * settings that change how it reads them (page size, case of table names, character set), its
 * server id, and where its server program is ({@code mariadbd}, else {@code mysqld}, under
 * {@code @@basedir}'s {@code sbin} or {@code bin}). {@code SHOW GLOBAL VARIABLES} needs no
 * privilege.
 */
final class MariaDbServerSettings {
    static final List<String> NAMES = List.of("datadir", "log_bin", "log_bin_basename", "log_bin_index", "innodb_data_home_dir",
            "innodb_log_group_home_dir", "innodb_undo_directory", "innodb_undo_tablespaces", "innodb_page_size", "innodb_data_file_path",
            "innodb_log_file_size", "innodb_checksum_algorithm", "lower_case_table_names", "server_id", "character_set_server",
            "collation_server", "plugin_dir", "basedir", "binlog_format", "skip_name_resolve", "version");

    private MariaDbServerSettings() {
    }

    static Map<String, String> read(Connection c) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('" + String.join("','", NAMES) + "')")) {
            while (rs.next()) {
                String value = rs.getString(2);
                if (value != null) {
                    out.put(rs.getString(1).toLowerCase(java.util.Locale.ROOT), value);
                }
            }
        }
        if (!out.containsKey("datadir")) {
            throw new RewindException("the server did not say where its data directory is (SHOW GLOBAL VARIABLES LIKE 'datadir')");
        }
        out.put(ServerSettings.SERVER_BINARY, serverBinary(out.get("basedir")).toString());
        return out;
    }

    /** The server program next to the running one, or a RewindException saying what to install. */
    static Path serverBinary(String basedir) {
        List<Path> candidates = new ArrayList<>();
        for (String base : basedir == null ? List.of("/usr") : List.of(basedir, "/usr")) {
            for (String dir : List.of("sbin", "bin", "libexec")) {
                candidates.add(Path.of(base, dir, "mariadbd"));
                candidates.add(Path.of(base, dir, "mysqld"));
            }
        }
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new RewindException("no mariadbd or mysqld under " + (basedir == null ? "/usr" : basedir)
                + " on this host; install the database's server package (mariadb-server) here");
    }
}
