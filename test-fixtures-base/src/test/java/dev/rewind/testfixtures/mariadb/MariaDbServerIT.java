package dev.rewind.testfixtures.mariadb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The MariaDB fixture itself: binary logging as Rewind needs it, restarts and crashes keep committed data, a given data dir is reused and left. */
class MariaDbServerIT {

    @Test
    void aFreshServerLogsRowsToItsBinlogDurably() {
        try (MariaDbServer server = MariaDbServer.start()) {
            assertEquals(List.of(List.of("1", "ROW", "1", "1")),
                    server.query("SELECT @@log_bin, @@binlog_format, @@sync_binlog, @@innodb_flush_log_at_trx_commit"));
            assertEquals(server.dataDir().resolve("mysql-bin").toString(), server.queryValue("SELECT @@log_bin_basename"));
            assertEquals("127.0.0.1", server.queryValue("SELECT @@bind_address"));
            assertEquals(MariaDbServer.DATABASE, server.queryValue("SHOW DATABASES LIKE '" + MariaDbServer.DATABASE + "'"));
            assertTrue(server.jdbcUrl().endsWith(":" + server.port() + "/" + MariaDbServer.DATABASE));
        }
    }

    @Test
    void aKilledServerStartsAgainWithItsCommittedRows() {
        try (MariaDbServer server = MariaDbServer.start()) {
            server.execute("CREATE TABLE rewind.kept (id INT) ENGINE=InnoDB; INSERT INTO rewind.kept VALUES (1), (2)");
            server.kill();
            assertFalse(server.isRunning());
            server.startAgain();
            assertEquals("2", server.queryValue("SELECT COUNT(*) FROM rewind.kept"));
            server.restart();
            assertEquals("2", server.queryValue("SELECT COUNT(*) FROM rewind.kept"));
        }
    }

    @Test
    void aGivenDataDirIsUsedAndLeftInPlace() {
        try (MariaDbServer first = MariaDbServer.start()) {
            first.execute("CREATE TABLE rewind.moved (id INT) ENGINE=InnoDB; INSERT INTO rewind.moved VALUES (7)");
            first.stop();
            Path dataDir = first.dataDir();
            try (MariaDbServer second = MariaDbServer.startWithDataDir(dataDir)) {
                assertEquals("7", second.queryValue("SELECT id FROM rewind.moved"));
            }
            assertTrue(Files.isDirectory(dataDir.resolve("mysql")), "close() leaves a data dir the test gave");
        }
    }
}
