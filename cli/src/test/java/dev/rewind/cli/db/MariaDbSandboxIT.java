package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A MariaDB database on a sandbox ({@link MariaDbOnRewind}: InnoDB on one member, the binlog
 * on another): a table with rows, a consistent bookmark, {@code DROP TABLE}; {@code rewind
 * sandbox create} at the bookmark and {@code rewind sandbox start} WHILE production keeps
 * inserting; the dropped table and its rows are on the sandbox port, served by a server with
 * another server id whose binlog is the sandbox's; the sandbox takes writes of its own; {@code
 * sandbox stop}. Production is untouched: it never gets the sandbox's table, its binlog has no
 * event of it, its error log shows no crash recovery; and with production stopped, a sandbox
 * start, write and stop leave the set's last seq and its primary byte for byte as they were.
 */
class MariaDbSandboxIT {
    @TempDir
    Path dir;

    @Test
    void droppedTableIsBackOnTheSandboxWhileProductionWritesAndProductionIsUntouched() throws Exception {
        try (MariaDbOnRewind db = MariaDbOnRewind.create(dir)) {
            RewindServe serve = db.serve();
            String set = RewindServe.SET;
            db.sql("USE shop; CREATE TABLE kept (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB; "
                    + "INSERT INTO kept SELECT seq, CONCAT('row ', seq) FROM seq_1_to_500; "
                    + "CREATE TABLE ticks (id BIGINT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB");
            JsonNode attached = serve.json("db", "attach", set, "--jdbc", db.jdbcUrl(), "--user", MariaDbOnRewind.USER,
                    "--password-file", db.passwordFile().toString(),
                    "--mount", MariaDbOnRewind.DATA + "=" + db.mountDir(MariaDbOnRewind.DATA),
                    "--mount", MariaDbOnRewind.BINLOG + "=" + db.mountDir(MariaDbOnRewind.BINLOG), "--json");
            assertTrue(attached.get("serverSettingsRecorded").asBoolean(), attached.toString());
            serve.ok("bookmark", set, "before-drop", "--consistent");
            db.sql("DROP TABLE shop.kept");
            serve.ok("sandbox", "create", set, "sb", "--at", "bookmark:before-drop");

            try (Ticker production = Ticker.start(db.jdbcUrl(), MariaDbOnRewind.USER, db.password(), "INSERT INTO ticks VALUES ()")) {
                production.awaitTicks(20);
                JsonNode started = serve.json("sandbox", "start", set, "sb", "--json");
                int port = started.get("port").asInt();
                assertEquals("jdbc:mariadb://127.0.0.1:" + port + "/" + MariaDbOnRewind.DATABASE, started.get("jdbcUrl").asText());
                assertTrue(started.get("connect").asText().startsWith("mariadb -h 127.0.0.1 -P " + port), started.toString());
                long ticksAtStart = production.ticks();
                try (Connection c = DriverManager.getConnection(started.get("jdbcUrl").asText(), MariaDbOnRewind.USER, db.password());
                     Statement s = c.createStatement()) {
                    assertEquals(500, count(s, "SELECT COUNT(*) FROM kept"), "the dropped table and its rows are on the sandbox");
                    assertEquals(125250, count(s, "SELECT SUM(id) FROM kept"));
                    assertEquals(2, count(s, "SELECT @@server_id"), "a server id other than production's (1)");
                    String binlog = text(s, "SELECT @@log_bin_basename");
                    assertTrue(binlog.startsWith("/run/rewind/sandboxes/") && binlog.contains("/" + set + "/sb/mnt/"),
                            "the sandbox's binlog is on the sandbox's mount: " + binlog);
                    s.execute("CREATE TABLE sandbox_only (id INT PRIMARY KEY) ENGINE=InnoDB");
                    s.execute("INSERT INTO sandbox_only SELECT seq FROM seq_1_to_1000");
                }
                assertRefused(serve.rewind("sandbox", "start", set, "sb"), "already has its database running on port " + port);
                production.awaitTicks(ticksAtStart + 20);
            }
            serve.ok("sandbox", "stop", set, "sb");

            assertEquals(List.of(), db.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop' "
                    + "AND table_name IN ('sandbox_only', 'kept')"), "production never got the sandbox's table, and kept stays dropped");
            for (Path binlog : binlogs(db)) {
                assertFalse(new String(Files.readAllBytes(binlog), java.nio.charset.StandardCharsets.ISO_8859_1).contains("sandbox_only"),
                        "production's binlog " + binlog + " has no event of the sandbox");
            }

            db.stop();
            long seqBefore = SandboxChecks.lastSeq(serve);
            String primaryBefore = SandboxChecks.sha256(dir.resolve("pv0.img"));
            JsonNode again = serve.json("sandbox", "start", set, "sb", "--json");
            try (Connection c = DriverManager.getConnection(again.get("jdbcUrl").asText(), MariaDbOnRewind.USER, db.password());
                 Statement s = c.createStatement()) {
                assertEquals(1000, count(s, "SELECT COUNT(*) FROM sandbox_only"), "the sandbox keeps what was written to it");
                s.execute("INSERT INTO sandbox_only SELECT seq FROM seq_1001_to_2000");
            }
            serve.ok("sandbox", "stop", set, "sb");
            assertEquals(seqBefore, SandboxChecks.lastSeq(serve), "no write of the sandbox reached the set's journal");
            assertEquals(primaryBefore, SandboxChecks.sha256(dir.resolve("pv0.img")), "no write of the sandbox reached the primary");

            db.start();
            assertEquals(List.of(), db.sql("SELECT table_name FROM information_schema.tables WHERE table_name = 'sandbox_only'"));
            assertFalse(db.errorLog().contains("crash recovery"), "production's error log shows no crash recovery:\n" + db.errorLog());
            serve.ok("sandbox", "drop", set, "sb");
        }
    }

    private static List<Path> binlogs(MariaDbOnRewind db) throws java.io.IOException {
        try (var files = Files.list(db.mountDir(MariaDbOnRewind.BINLOG).resolve("binlog"))) {
            return files.filter(p -> p.getFileName().toString().matches("mysql-bin\\.\\d{6}")).toList();
        }
    }

    private static void assertRefused(Tools.Result r, String expected) {
        assertNotEquals(0, r.exit(), r.describe());
        assertTrue(r.err().contains(expected) || r.out().contains(expected), "expected '" + expected + "': " + r.describe());
    }

    private static long count(Statement s, String sql) throws SQLException {
        return Long.parseLong(text(s, sql));
    }

    private static String text(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
