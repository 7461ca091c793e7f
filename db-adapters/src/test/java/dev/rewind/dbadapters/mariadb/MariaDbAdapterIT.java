package dev.rewind.dbadapters.mariadb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.dbadapters.api.ConnectionPool;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.Credentials;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.testfixtures.mariadb.MariaDbServer;
import dev.rewind.testfixtures.tools.Tools;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MariaDB adapter against a real MariaDB server (Debian's mariadb-server) with binary logging on. */
class MariaDbAdapterIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static MariaDbServer server;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startServer() {
        Tools.require("mariadb-binlog", "mariadb-client");
        server = MariaDbServer.start();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private MariaDbAdapter adapter(String url, String user, String password) throws IOException {
        Path passwordFile = tmp.resolve("password-" + user);
        Files.writeString(passwordFile, password + "\n");
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        DatabaseAttachment attachment = new DatabaseAttachment("shop", "mariadb", url, user, passwordFile.toString(), null, null, null,
                List.of(), Map.of(), null, Duration.ofSeconds(10), 0);
        return new MariaDbAdapter(attachment, ConnectionPool.open(Engine.MARIADB, url, new Credentials(user, passwordFile, null), "test"));
    }

    private MariaDbAdapter adapter() throws IOException {
        return adapter(server.jdbcUrl(), MariaDbServer.USER, MariaDbServer.PASSWORD);
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection(server.jdbcUrl(), MariaDbServer.USER, MariaDbServer.PASSWORD);
    }

    private static String masterStatus() {
        List<String> row = server.query("SHOW MASTER STATUS").get(0);
        return row.get(0) + ":" + row.get(1);
    }

    @Test
    void connectionAnswersWithTheServerVersion() throws IOException {
        try (MariaDbAdapter a = adapter()) {
            assertTrue(a.checkConnection().contains("MariaDB"), a.checkConnection());
            assertEquals(Engine.MARIADB, a.engine());
        }
    }

    @Test
    void aJdbcMysqlUrlWorksThroughTheMariaDbDriver() throws IOException {
        try (MariaDbAdapter a = adapter(server.jdbcUrl().replace("jdbc:mariadb:", "jdbc:mysql:"), MariaDbServer.USER, MariaDbServer.PASSWORD)) {
            assertTrue(a.checkConnection().contains("MariaDB"));
        }
    }

    @Test
    void aWrongPasswordIsRefusedInOneLineWithoutThePassword() throws IOException {
        try (MariaDbAdapter a = adapter(server.jdbcUrl(), MariaDbServer.USER, "not-the-password")) {
            RewindException e = assertThrows(RewindException.class, a::checkConnection);
            assertTrue(e.getMessage().contains("refused the login") && e.getMessage().contains("MariaDB at 127.0.0.1:" + server.port()),
                    e.getMessage());
            assertFalse(e.getMessage().contains("not-the-password"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void nothingListeningIsReportedAsUnreachable() throws IOException {
        String url = "jdbc:mariadb://127.0.0.1:" + Tools.freePort() + "/rewind";
        try (MariaDbAdapter a = adapter(url, MariaDbServer.USER, MariaDbServer.PASSWORD)) {
            RewindException e = assertThrows(RewindException.class, a::checkConnection);
            assertTrue(e.getMessage().startsWith("cannot reach MariaDB at 127.0.0.1:"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void aConsistentPointHoldsCommitsWhileTheFenceRuns() throws Exception {
        server.execute("CREATE TABLE rewind.held (id INT PRIMARY KEY) ENGINE=InnoDB");
        ExecutorService other = Executors.newSingleThreadExecutor();
        AtomicReference<Future<?>> insert = new AtomicReference<>();
        AtomicReference<String> statusAtFence = new AtomicReference<>();
        AtomicReference<String> gtidAtFence = new AtomicReference<>();
        AtomicReference<String> rowsAtFence = new AtomicReference<>();
        try (MariaDbAdapter a = adapter()) {
            ConsistentPoint point = a.consistentPoint("before-insert", () -> {
                statusAtFence.set(masterStatus());
                gtidAtFence.set(server.queryValue("SELECT @@gtid_binlog_pos"));
                insert.set(other.submit(() -> {
                    try (Connection c = connect(); Statement s = c.createStatement()) {
                        s.execute("INSERT INTO rewind.held VALUES (1)");
                    }
                    return null;
                }));
                awaitBlockedOnBackupLock("INSERT INTO rewind.held");
                rowsAtFence.set(server.queryValue("SELECT COUNT(*) FROM rewind.held"));
                return 42;
            });
            insert.get().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(42, point.seq());
            assertEquals("0", rowsAtFence.get(), "the concurrent INSERT committed while commits were blocked");
            assertEquals(statusAtFence.get(), point.position().text());
            assertEquals(gtidAtFence.get(), point.gtid());
            assertEquals("1", server.queryValue("SELECT COUNT(*) FROM rewind.held"), "the INSERT commits after BACKUP STAGE END");
            assertTrue(BinlogPosition.parse(masterStatus()).order() > point.position().order());
        } finally {
            other.shutdownNow();
        }
    }

    private static void awaitBlockedOnBackupLock(String statementStart) {
        Instant deadline = Instant.now().plus(WAIT);
        while (Instant.now().isBefore(deadline)) {
            String state = server.queryValue("SELECT state FROM information_schema.processlist WHERE info LIKE '" + statementStart + "%'");
            if ("Waiting for backup lock".equals(state)) {
                return;
            }
            sleep(50);
        }
        fail("the concurrent INSERT never waited for the backup lock; processlist: " + server.query("SHOW PROCESSLIST"));
    }

    @Test
    void aFailingFenceStillReleasesTheBackupStage() throws Exception {
        try (MariaDbAdapter a = adapter()) {
            IOException e = assertThrows(IOException.class, () -> a.consistentPoint("broken", () -> {
                throw new IOException("fence failed");
            }));
            assertEquals("fence failed", e.getMessage());
            server.execute("CREATE TABLE rewind.after_failed_fence (id INT) ENGINE=InnoDB; INSERT INTO rewind.after_failed_fence VALUES (1)");
            assertEquals("1", server.queryValue("SELECT COUNT(*) FROM rewind.after_failed_fence"));
        }
    }

    @Test
    void aMissingPrivilegeNamesTheGrant() throws IOException {
        server.execute("CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pw'; GRANT SELECT ON rewind.* TO 'reader'@'%'");
        try (MariaDbAdapter a = adapter(server.jdbcUrl(), "reader", "reader-pw")) {
            RewindException e = assertThrows(RewindException.class, () -> a.consistentPoint("x", () -> 1));
            assertTrue(e.getMessage().contains("GRANT ") && e.getMessage().contains(" ON *.* TO 'reader'@'%'"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void aSampleBracketsTheFenceBetweenDurableAndBound() throws Exception {
        server.execute("CREATE TABLE rewind.sampled (id INT PRIMARY KEY) ENGINE=InnoDB");
        AtomicReference<String> beforeWrite = new AtomicReference<>();
        AtomicReference<String> afterWrite = new AtomicReference<>();
        AtomicReference<String> gtidBefore = new AtomicReference<>();
        try (MariaDbAdapter a = adapter()) {
            gtidBefore.set(server.queryValue("SELECT @@gtid_binlog_pos"));
            String statusBefore = masterStatus();
            PositionSample sample = a.sample("shop", () -> {
                beforeWrite.set(masterStatus());
                try (Connection c = connect(); Statement s = c.createStatement()) {
                    s.execute("INSERT INTO rewind.sampled VALUES (1)");
                } catch (SQLException e) {
                    throw new IOException(e);
                }
                afterWrite.set(masterStatus());
                return 7;
            }).orElseThrow();
            assertEquals("shop", sample.setName());
            assertEquals(7, sample.seq());
            assertEquals(statusBefore, sample.durablePosition(), "nothing was written between the test's read and the sample's");
            assertEquals(BinlogPosition.parse(sample.durablePosition()).order(), sample.durableOrder());
            assertEquals(BinlogPosition.parse(sample.boundPosition()).order(), sample.boundOrder());
            assertTrue(sample.durableOrder() <= BinlogPosition.parse(beforeWrite.get()).order());
            assertTrue(sample.boundOrder() >= BinlogPosition.parse(afterWrite.get()).order());
            assertTrue(sample.boundOrder() > sample.durableOrder(), "the write during the fence lies between durable and bound");
            assertEquals(gtidBefore.get(), sample.gtid());
        }
    }

    @Test
    void positionsParseFromCoordinatesAndGtids() throws IOException {
        server.execute("CREATE TABLE rewind.parsed (id INT PRIMARY KEY) ENGINE=InnoDB");
        String ddlGtid = server.queryValue("SELECT @@gtid_binlog_pos");
        server.execute("INSERT INTO rewind.parsed VALUES (1), (2)");
        String trxGtid = server.queryValue("SELECT @@gtid_binlog_pos");
        server.execute("INSERT INTO rewind.parsed VALUES (3)");
        String file = server.query("SHOW MASTER STATUS").get(0).get(0);
        List<List<String>> events = server.query("SHOW BINLOG EVENTS IN '" + file + "'");
        try (MariaDbAdapter a = adapter()) {
            assertEquals(new DatabasePosition(file + ":1234", BinlogPosition.parse(file + ":1234").order()), a.parsePosition(file + ":1234"));

            DatabasePosition trx = a.parsePosition(trxGtid);
            assertEquals(file + ":" + posOfEventAfterGtid(events, trxGtid, "Xid"), trx.text(), "a transaction ends at its Xid");
            DatabasePosition ddl = a.parsePosition(ddlGtid);
            assertEquals(file + ":" + posOfEventAfterGtid(events, ddlGtid, "Query"), ddl.text(), "a DDL is its Query event");
            assertTrue(ddl.order() < trx.order());

            // read from the files, without the server: the same position for every GTID of the file
            BinlogFiles files = new BinlogFiles(Path.of(server.queryValue("SELECT @@log_bin_basename")).getParent(), List.of(file));
            int gtids = 0;
            for (List<String> e : events) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("GTID (\\d+-\\d+-\\d+)$").matcher(e.get(5));
                if (e.get(2).equals("Gtid") && m.find()) {
                    assertEquals(a.parsePosition(m.group(1)), files.endOfTransaction(m.group(1)).toPosition(), "GTID " + m.group(1));
                    gtids++;
                }
            }
            assertTrue(gtids >= 3, "GTIDs compared: " + gtids);

            RewindException bad = assertThrows(RewindException.class, () -> a.parsePosition("yesterday at noon"));
            assertTrue(bad.getMessage().contains("FILE:POS"), bad.getMessage());
            RewindException unknown = assertThrows(RewindException.class, () -> a.parsePosition("0-1-999999"));
            assertTrue(unknown.getMessage().startsWith("GTID 0-1-999999 is not in the binlogs of MariaDB at"), unknown.getMessage());
            assertEquals(1, unknown.getMessage().lines().count());
        }
    }

    /** From SHOW BINLOG EVENTS rows (Log_name, Pos, Event_type, Server_id, End_log_pos, Info): the first event of {@code type} after the GTID's event. */
    private static String posOfEventAfterGtid(List<List<String>> events, String gtid, String type) {
        boolean inside = false;
        for (List<String> e : events) {
            if (e.get(2).equals("Gtid")) {
                inside = e.get(5).endsWith("GTID " + gtid);
            } else if (inside && e.get(2).equals(type)) {
                return e.get(1);
            }
        }
        throw new AssertionError("no " + type + " event for GTID " + gtid + " in " + events);
    }

    @Test
    void validationPassesOnTruthAndNamesTheQueryOtherwise() throws IOException {
        server.execute("CREATE TABLE rewind.checked (id INT) ENGINE=InnoDB; INSERT INTO rewind.checked VALUES (1)");
        try (MariaDbAdapter a = adapter()) {
            a.validate("SELECT COUNT(*) FROM rewind.checked");
            a.validate("DO 1");
            RewindException zero = assertThrows(RewindException.class, () -> a.validate("SELECT COUNT(*) FROM rewind.checked WHERE id > 1"));
            assertTrue(zero.getMessage().contains("returned 0"), zero.getMessage());
            RewindException broken = assertThrows(RewindException.class, () -> a.validate("SELECT * FROM rewind.no_such_table"));
            assertTrue(broken.getMessage().startsWith("validation query 'SELECT * FROM rewind.no_such_table' failed"), broken.getMessage());
            a.awaitAcceptingConnections(Duration.ofSeconds(30));
        }
    }

    @Test
    void findListsTheTruncateWithItsPositionGtidAndTime() throws Exception {
        server.execute("CREATE TABLE rewind.orders (id INT PRIMARY KEY) ENGINE=InnoDB; CREATE TABLE rewind.orders_archive (id INT) ENGINE=InnoDB;"
                + "INSERT INTO rewind.orders VALUES (1), (2); TRUNCATE TABLE rewind.orders_archive");
        Instant before = Instant.now();
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE TABLE `rewind`.`orders`");
        }
        Instant after = Instant.now();
        String gtid = server.queryValue("SELECT @@gtid_binlog_pos");
        server.execute("INSERT INTO rewind.orders VALUES (3); DELETE FROM rewind.orders");
        String file = server.query("SHOW MASTER STATUS").get(0).get(0);
        List<List<String>> events = server.query("SHOW BINLOG EVENTS IN '" + file + "'");
        String truncatePos = events.stream().filter(e -> e.get(5).endsWith("TRUNCATE TABLE `rewind`.`orders`")).map(e -> e.get(1))
                .reduce((x, y) -> y).orElseThrow();
        try (MariaDbAdapter a = adapter()) {
            List<FoundStatement> found = a.find(new StatementQuery("truncate  orders", null, null));
            assertEquals(1, found.size(), found.toString());
            FoundStatement f = found.get(0);
            assertEquals(file + ":" + truncatePos, f.position().text());
            assertEquals(BinlogPosition.parse(file + ":" + truncatePos).order(), f.position().order());
            assertEquals(gtid, f.gtid());
            assertEquals("TRUNCATE TABLE `rewind`.`orders`", f.description());
            assertFalse(f.time().isBefore(before.truncatedTo(ChronoUnit.SECONDS)), f.time() + " before " + before);
            assertFalse(f.time().isAfter(after), f.time() + " after " + after);

            assertEquals(List.of(), a.find(new StatementQuery("TRUNCATE orders", after.plusSeconds(1), null)), "since excludes it");
            assertEquals(List.of(), a.find(new StatementQuery("TRUNCATE orders", null, before.truncatedTo(ChronoUnit.SECONDS))),
                    "until excludes it");
            assertEquals(1, a.find(new StatementQuery("TRUNCATE orders", before, after.plusMillis(1))).size());

            List<FoundStatement> deletes = a.find(new StatementQuery("DELETE FROM orders", null, null));
            assertEquals(1, deletes.size(), "a row-logged DELETE is found by its annotation: " + deletes);
            assertEquals("DELETE FROM rewind.orders", deletes.get(0).description());
        }
    }

    @Test
    void dropTableT2FindsT2sDropNotTheLaterDropsOfT3OrT22AndASchemaQualifiedUpdateIsFoundByItsBareName() throws Exception {
        server.execute("CREATE DATABASE IF NOT EXISTS named; CREATE DATABASE IF NOT EXISTS shop;"
                + "CREATE TABLE named.t2 (id INT); CREATE TABLE named.t3 (id INT); CREATE TABLE named.t22 (id INT);"
                + "CREATE TABLE shop.orders (id INT PRIMARY KEY, total INT) ENGINE=InnoDB; INSERT INTO shop.orders VALUES (1, 10), (2, 20)");
        server.execute("DROP TABLE named.t2");
        server.execute("UPDATE shop.orders SET total = 0 WHERE id = 2");
        server.execute("DROP TABLE named.t3; DROP TABLE IF EXISTS named.t22");
        String file = server.query("SHOW MASTER STATUS").get(0).get(0);
        List<List<String>> events = server.query("SHOW BINLOG EVENTS IN '" + file + "'");
        String dropT2 = file + ":" + events.stream().filter(e -> e.get(5).contains("DROP TABLE `named`.`t2`")).map(e -> e.get(1))
                .reduce((x, y) -> y).orElseThrow(() -> new AssertionError("no drop of t2 in " + events));
        try (MariaDbAdapter a = adapter()) {
            for (String sql : List.of("DROP TABLE t2", "drop table named.t2;", "DROP TABLE IF EXISTS `t2`")) {
                List<FoundStatement> found = a.find(new StatementQuery(sql, null, null));
                assertEquals(List.of(dropT2), found.stream().map(f -> f.position().text()).toList(), sql + ": " + found);
            }
            assertEquals(2, a.find(new StatementQuery("DROP TABLE t3, t22", null, null)).size(), "a list names either");
            for (String sql : List.of("UPDATE orders", "shop.orders", "update shop.orders")) {
                List<FoundStatement> updates = a.find(new StatementQuery(sql, null, null)).stream()
                        .filter(f -> f.description().startsWith("UPDATE")).toList();
                assertEquals(List.of("UPDATE shop.orders SET total = 0 WHERE id = 2"), updates.stream().map(FoundStatement::description).toList(),
                        sql);
            }
            assertEquals(List.of(), a.find(new StatementQuery("UPDATE other.orders", null, null)));
            FoundStatements searched = a.search(new StatementQuery("DROP TABLE t2", null, null));
            assertTrue(searched.searchedFrom().order() < searched.statements().get(0).position().order()
                    && searched.searchedTo().order() > searched.statements().get(0).position().order(), searched.toString());
        }
    }

    @Test
    void aDdlIsLoggedAfterItsEffectsSoItsTargetIsTheEventBeforeItATransactionIsNot() throws Exception {
        server.execute("CREATE TABLE rewind.ledger (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO rewind.ledger VALUES (1);"
                + "TRUNCATE TABLE rewind.ledger");
        String file = server.query("SHOW MASTER STATUS").get(0).get(0);
        List<List<String>> events = server.query("SHOW BINLOG EVENTS IN '" + file + "'");
        int truncate = -1;
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).get(5).endsWith("TRUNCATE TABLE rewind.ledger")) {
                truncate = i;
            }
        }
        assertEquals("Gtid", events.get(truncate - 1).get(2), "a DDL's own Gtid event precedes it: " + events);
        List<String> insertEnd = events.get(truncate - 2);
        assertEquals("Xid", insertEnd.get(2), "the INSERT's transaction ends just before: " + events);
        try (MariaDbAdapter a = adapter()) {
            assertEquals(Optional.of(file + ":" + insertEnd.get(1)),
                    a.loggedAfterItsEffects(a.parsePosition(file + ":" + events.get(truncate).get(1))).map(DatabasePosition::text));
            assertEquals(Optional.empty(), a.loggedAfterItsEffects(a.parsePosition(file + ":" + insertEnd.get(1))),
                    "a transaction's events come before its commit takes effect");
        }
    }

    @Test
    void findKeepsMicrosecondsWhenTheBinlogHasThem() throws Exception {
        server.execute("CREATE TABLE rewind.stamped (id INT) ENGINE=InnoDB; INSERT INTO rewind.stamped VALUES (1)");
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("SET time_zone = '+00:00'");
            // adding a column whose default is NOW(6) fills the existing row with the statement's start, to the microsecond
            s.execute("ALTER TABLE rewind.stamped ADD COLUMN at_micros DATETIME(6) NOT NULL DEFAULT NOW(6)");
        }
        Instant expected;
        try (Connection c = connect(); Statement s = c.createStatement(); var rs = s.executeQuery("SELECT at_micros FROM rewind.stamped")) {
            rs.next();
            expected = rs.getObject(1, LocalDateTime.class).toInstant(ZoneOffset.UTC);
        }
        try (MariaDbAdapter a = adapter()) {
            List<FoundStatement> found = a.find(new StatementQuery("ALTER TABLE stamped ADD COLUMN at_micros", null, null));
            assertEquals(1, found.size(), found.toString());
            assertEquals(expected, found.get(0).time());
        }
    }

    @Test
    void locateGivesTheEventsFirstBytesAsTheFileHoldsThem() throws Exception {
        server.execute("CREATE TABLE rewind.located (id INT) ENGINE=InnoDB; INSERT INTO rewind.located VALUES (1)");
        String file = server.query("SHOW MASTER STATUS").get(0).get(0);
        List<List<String>> events = server.query("SHOW BINLOG EVENTS IN '" + file + "'");
        try (MariaDbAdapter a = adapter()) {
            for (List<String> e : events) {
                DatabasePosition p = a.parsePosition(file + ":" + e.get(1));
                LogLocation loc = a.locate(p).orElseThrow();
                assertEquals(server.dataDir().resolve(file).toRealPath(), loc.file().toRealPath());
                assertEquals(Long.parseLong(e.get(1)), loc.fileOffsetBytes());
                long offset = loc.fileOffsetBytes();
                int length = (int) Math.min(19, 4096 - offset % 4096);
                assertArrayEquals(read(loc.file(), offset, length), loc.expected(), "at " + p);
            }
            assertEquals(Optional.empty(), a.locate(a.parsePosition("mysql-bin.999999:4")), "no such binlog file");
            assertEquals(Optional.empty(), a.locate(a.parsePosition(file + ":" + (1L << 39))), "past the end of the file");
        }
    }

    private static byte[] read(Path file, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) >= 0) {
                // read on
            }
            return b.array();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
