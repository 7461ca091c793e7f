package dev.rewind.dbadapters.postgresql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.api.ConnectionPool;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.Credentials;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.RelationNameHistory;
import dev.rewind.dbadapters.api.LogFiles;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.testfixtures.postgres.PostgresServer;
import dev.rewind.testfixtures.tools.Tools;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import dev.rewind.volumeset.catalog.RelationNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL adapter against a real server of its own ({@link PostgresServer}, password
 * required for the test login, trust for the superuser): connection errors, consistent points,
 * samples, validation, finding a DROP TABLE and a TRUNCATE in the WAL, and locating WAL records.
 * No test here drops or truncates a table except the find tests, each inside its own window.
 */
class PostgresAdapterIT {
    private static final String PASSWORD = "right-Pa55word";
    private static PostgresServer server;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void startServer() {
        server = PostgresServer.start().withPassword(PASSWORD);
        server.psql("grant pg_read_all_settings to " + PostgresServer.USER); // db find and locate ask where the WAL is
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private static PostgresAdapter adapter(String url, String user, String password) throws IOException {
        Path file = null;
        if (password != null) {
            file = Files.createTempFile(tmp, "pw", "", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, password + "\n");
        }
        Credentials credentials = new Credentials(user, file, null);
        DatabaseAttachment attachment = new DatabaseAttachment("pgset", "postgresql", url, user, file == null ? null : file.toString(), null,
                null, null, List.of(), Map.of(), null, Duration.ofSeconds(10), 0);
        return new PostgresAdapter(attachment, ConnectionPool.open(Engine.POSTGRESQL, url, credentials, "test-" + user));
    }

    /** The test login, with the password it needs. */
    private static PostgresAdapter login() throws IOException {
        return adapter(server.jdbcUrl(), PostgresServer.USER, PASSWORD);
    }

    private static PostgresAdapter superuser() throws IOException {
        return adapter(server.jdbcUrl(), PostgresServer.SUPERUSER, null);
    }

    private static Lsn lsn(String sql) {
        return Lsn.parse(server.psql(sql).out().strip());
    }

    private static void assertOneLineWithoutPassword(RewindException e) {
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
        assertFalse(e.getMessage().contains("wrong-Pa55word"), e.getMessage());
    }

    @Test
    void checkConnectionReturnsTheServersVersion() throws IOException {
        try (PostgresAdapter pg = login()) {
            assertTrue(pg.checkConnection().startsWith("PostgreSQL "), "version()");
        }
    }

    @Test
    void wrongPasswordIsRefusedInOneLineNamingWhatToCheck() throws IOException {
        try (PostgresAdapter pg = adapter(server.jdbcUrl(), PostgresServer.USER, "wrong-Pa55word")) {
            RewindException e = assertThrows(RewindException.class, pg::checkConnection);
            assertOneLineWithoutPassword(e);
            assertTrue(e.getMessage().startsWith("PostgreSQL at 127.0.0.1:" + server.port() + "/rewind refused the login"), e.getMessage());
            assertTrue(e.getMessage().contains("check --user and the password"), e.getMessage());
        }
    }

    @Test
    void nothingListeningIsUnreachableInOneLine() throws IOException {
        int port = Tools.freePort();
        try (PostgresAdapter pg = adapter("jdbc:postgresql://127.0.0.1:" + port + "/rewind", PostgresServer.USER, PASSWORD)) {
            RewindException e = assertThrows(RewindException.class, pg::checkConnection);
            assertOneLineWithoutPassword(e);
            assertTrue(e.getMessage().startsWith("cannot reach PostgreSQL at 127.0.0.1:" + port + "/rewind"), e.getMessage());
            assertTrue(e.getMessage().contains("is the database running"), e.getMessage());
        }
    }

    @Test
    void consistentPointIsARestorePointFlushedByACheckpointBeforeTheFence() throws IOException {
        AtomicInteger fenceCalls = new AtomicInteger();
        Lsn[] flushAtFence = new Lsn[1];
        ConsistentPoint point;
        try (PostgresAdapter pg = superuser()) {
            point = pg.consistentPoint("bm-fenced", () -> {
                fenceCalls.incrementAndGet();
                flushAtFence[0] = lsn("select pg_current_wal_flush_lsn()");
                return 4242;
            });
        }
        assertEquals(1, fenceCalls.get());
        assertEquals(4242, point.seq());
        Lsn position = Lsn.parse(point.position().text());
        assertEquals(position.value(), point.position().order());
        assertTrue(position.compareTo(flushAtFence[0]) <= 0, "restore point " + position + " flushed by the fence's time: " + flushAtFence[0]);
        assertTrue(point.detail().contains("restore point 'bm-fenced'") && point.detail().contains("checkpoint redo"), point.detail());
        // the restore point is in the WAL under its name, ending where the bookmark says
        Path walDir = server.dataDir().resolve("pg_wal");
        String dump = Tools.run(Duration.ofSeconds(60), server.binDir().resolve("pg_waldump").toString(), "-p", walDir.toString(),
                "-s", lsn("select redo_lsn from pg_control_checkpoint()").toString().equals("0/0") ? "0/1000000" : segmentStartBefore(position),
                "-e", position.toString()).out();
        assertTrue(dump.lines().anyMatch(l -> l.contains("RESTORE_POINT bm-fenced")), "pg_waldump shows the restore point:\n" + dump);
    }

    /** The start of the segment holding {@code lsn}, where pg_waldump can begin. */
    private static String segmentStartBefore(Lsn lsn) {
        long size = Long.parseLong(server.psql("select setting from pg_settings where name = 'wal_segment_size'").out().strip());
        return new Lsn(lsn.value() / size * size).toString();
    }

    @Test
    void consistentPointWithoutRightsSaysWhichGrantToRun() throws IOException {
        AtomicInteger fenceCalls = new AtomicInteger();
        try (PostgresAdapter pg = login()) {
            RewindException e = assertThrows(RewindException.class, () -> pg.consistentPoint("bm-denied", () -> fenceCalls.incrementAndGet()));
            assertOneLineWithoutPassword(e);
            assertTrue(e.getMessage().startsWith("role rewind may not take a consistent bookmark"), e.getMessage());
            assertTrue(e.getMessage().contains("GRANT pg_checkpoint TO rewind"), e.getMessage());
            assertTrue(e.getMessage().contains("GRANT EXECUTE ON FUNCTION pg_create_restore_point(text) TO rewind"), e.getMessage());
        }
        assertEquals(0, fenceCalls.get(), "no seq is taken for a bookmark that failed");
    }

    @Test
    void sampleReadsDurableBeforeTheFenceAndBoundAfterIt() throws IOException {
        server.psql("create table if not exists sample_traffic (n int)");
        AtomicInteger fenceCalls = new AtomicInteger();
        Lsn[] flushAtFence = new Lsn[1];
        PositionSample sample;
        try (PostgresAdapter pg = login()) {
            sample = pg.sample("pgset", () -> {
                fenceCalls.incrementAndGet();
                server.psql("insert into sample_traffic values (1)"); // WAL written while the seq is taken
                flushAtFence[0] = lsn("select pg_current_wal_flush_lsn()");
                return 77;
            }).orElseThrow();
        }
        assertEquals(1, fenceCalls.get());
        assertEquals("pgset", sample.setName());
        assertEquals(77, sample.seq());
        assertEquals(Lsn.parse(sample.durablePosition()).value(), sample.durableOrder());
        assertEquals(Lsn.parse(sample.boundPosition()).value(), sample.boundOrder());
        assertTrue(Long.compareUnsigned(sample.durableOrder(), flushAtFence[0].value()) < 0, "durable read before the fence's insert");
        assertTrue(Long.compareUnsigned(flushAtFence[0].value(), sample.boundOrder()) <= 0, "bound read after the fence's insert");
        assertTrue(sample.timeMicros() > 0);
    }

    @Test
    void validatePassesRefusesFalseAndReportsErrors() throws IOException {
        try (PostgresAdapter pg = login()) {
            pg.validate("select 1");
            pg.validate("select count(*) >= 0 from pg_class");
            RewindException no = assertThrows(RewindException.class, () -> pg.validate("select false"));
            assertEquals("validation query 'select false' returned false", no.getMessage());
            RewindException bad = assertThrows(RewindException.class, () -> pg.validate("select * from no_such_table"));
            assertTrue(bad.getMessage().startsWith("validation query 'select * from no_such_table' failed: "), bad.getMessage());
            assertTrue(bad.getMessage().contains("no_such_table"), bad.getMessage());
            assertOneLineWithoutPassword(bad);
        }
    }

    @Test
    void awaitAcceptingConnectionsReturnsForARunningServer() throws IOException {
        try (PostgresAdapter pg = login()) {
            pg.awaitAcceptingConnections(Duration.ofSeconds(30));
        }
    }

    /** A statement run between two readings of the WAL position and the clock. */
    private record Window(Lsn before, Lsn after, Instant from, Instant to) {
        boolean holds(FoundStatement f) {
            Lsn at = Lsn.parse(f.position().text());
            return at.compareTo(before) >= 0 && at.compareTo(after) < 0 && !f.time().isBefore(from) && !f.time().isAfter(to);
        }
    }

    private static Window run(String sql) {
        Lsn before = lsn("select pg_current_wal_lsn()");
        Instant from = Instant.now();
        server.psql(sql);
        Instant to = Instant.now();
        return new Window(before, lsn("select pg_current_wal_lsn()"), from, to);
    }

    private static void traffic(int round) {
        server.psql("insert into shop_orders select g, 'order ' || g from generate_series(" + round * 100 + ", " + (round * 100 + 99) + ") g");
        server.psql("update shop_orders set note = note || '!' where id % 7 = " + round % 7);
        server.psql("delete from shop_orders where id % 11 = " + round % 11);
        server.psql("create index if not exists shop_orders_note_" + round + " on shop_orders (note)");
    }

    @Test
    void findsTheDropTableAndTheTruncateAmongOtherTraffic() throws IOException {
        Instant since = Instant.now();
        server.psql("create table shop_orders (id int primary key, note text)");
        server.psql("create table victim_drop (id int primary key, note text); insert into victim_drop select g, 'x' from generate_series(1, 500) g");
        server.psql("create table victim_trunc (id int primary key, note text); insert into victim_trunc select g, 'y' from generate_series(1, 500) g");
        String droppedFile = server.psql("select pg_relation_filepath('victim_drop')").out().strip();
        traffic(1);
        Window drop = run("drop table victim_drop");
        traffic(2);
        Window truncate = run("truncate victim_trunc");
        traffic(3);
        try (PostgresAdapter pg = login()) {
            List<FoundStatement> drops = pg.find(new StatementQuery("DROP TABLE", since, null));
            assertEquals(1, drops.size(), drops.toString());
            assertTrue(drop.holds(drops.get(0)), drop + " holds " + drops.get(0));
            assertTrue(drops.get(0).description().contains(droppedFile), drops.get(0).description());
            assertEquals(null, drops.get(0).gtid());

            List<FoundStatement> truncates = pg.find(new StatementQuery("truncate table victim_trunc;", since, null));
            assertEquals(1, truncates.size(), truncates.toString());
            assertTrue(truncate.holds(truncates.get(0)), truncate + " holds " + truncates.get(0));
            assertTrue(truncates.get(0).description().contains("public.victim_trunc"), truncates.get(0).description());

            assertEquals(List.of(), pg.find(new StatementQuery("TRUNCATE shop_orders", since, null)), "a name narrows the truncates");
            assertEquals(List.of(), pg.find(new StatementQuery("DROP TABLE", drop.to().plusMillis(1), null)), "--since after the drop");
            assertEquals(List.of(), pg.find(new StatementQuery("DROP TABLE", since, drop.from())), "until before the drop");
            RewindException e = assertThrows(RewindException.class, () -> pg.find(new StatementQuery("INSERT INTO shop_orders", since, null)));
            assertTrue(e.getMessage().contains("it can find: DROP TABLE [name], TRUNCATE [name], UPDATE [name], DELETE FROM [name]"),
                    e.getMessage());
        }
    }

    @Test
    void dropTableT2FindsT2sDropThroughTheNamesReadBeforeItNotTheLaterDropOfT3() throws IOException {
        Instant since = Instant.now();
        server.psql("create schema named; create table named.t2 (id int primary key, note text); "
                + "create table named.t3 (id int primary key, note text); create table named.t22 (id int)");
        String t2Index = server.psql("select pg_relation_filepath('named.t2_pkey')").out().strip();
        try (PostgresAdapter pg = login()) {
            List<RelationNames> read = new ArrayList<>();
            read.add(pg.relationNames("pgset", () -> 1).orElseThrow());
            assertEquals("named.t2", read.get(0).namesByFile().get(t2Index), "an index file is named by its table: " + read.get(0));
            Window dropT2 = run("drop table named.t2");
            read.add(pg.relationNames("pgset", () -> 2).orElseThrow());
            assertFalse(read.get(1).namesByFile().containsValue("named.t2"), read.get(1).toString());
            Window dropT3 = run("drop table named.t3");
            run("drop table named.t22");
            RelationNameHistory history = order -> read.stream().filter(m -> m.positionOrder() < order)
                    .max(java.util.Comparator.comparingLong(RelationNames::positionOrder)).map(RelationNames::namesByFile);

            List<FoundStatement> t2 = pg.find(new StatementQuery("DROP TABLE t2", since, null, history));
            assertEquals(1, t2.size(), t2.toString());
            assertTrue(dropT2.holds(t2.get(0)), dropT2 + " holds " + t2.get(0));
            assertTrue(t2.get(0).description().startsWith("DROP TABLE named.t2:"), t2.get(0).description());
            assertFalse(t2.get(0).unnamed());
            List<FoundStatement> t3 = pg.find(new StatementQuery("drop table named.t3", since, null, history));
            assertEquals(1, t3.size(), t3.toString());
            assertTrue(dropT3.holds(t3.get(0)), dropT3 + " holds " + t3.get(0));

            // without the names read before them, the drops are listed unnamed and none is taken for t2
            List<FoundStatement> unnamed = pg.find(new StatementQuery("DROP TABLE t2", since, null));
            assertEquals(3, unnamed.size(), unnamed.toString());
            assertTrue(unnamed.stream().allMatch(f -> f.unnamed() && f.description().startsWith("DROP of unnamed relation ")),
                    unnamed.toString());
            FoundStatements searched = pg.search(new StatementQuery("DROP TABLE t2", since, null, history));
            assertTrue(searched.searchedFrom().order() <= dropT2.before().value() && searched.searchedTo().order() >= dropT3.after().value(),
                    searched.toString());
        }
    }

    @Test
    void anUpdateWhoseWalTheServerRecycledIsFoundInTheArchiveReadWithPgWal() throws IOException {
        Instant since = Instant.now();
        server.psql("create table archived_orders (id int primary key, v int); "
                + "insert into archived_orders select g, g from generate_series(1, 40) g");
        try (PostgresAdapter pg = login()) {
            RelationNames names = pg.relationNames("pgset", () -> 1).orElseThrow();
            RelationNameHistory history = order -> order > names.positionOrder() ? Optional.of(names.namesByFile()) : Optional.empty();
            Window update = run("update archived_orders set v = 0");
            String updateSegment = server.psql("select pg_walfile_name('" + update.after() + "')").out().strip();
            server.psql("select pg_switch_wal()"); // the update's segment is complete: archive it as archive_command would
            Path pgWal = server.dataDir().resolve("pg_wal");
            Path archive = Files.createDirectories(tmp.resolve("wal-archive"));
            for (String segment : WalSegments.segmentsOf(pgWal, WalSegments.timelineOf(updateSegment))) {
                if (segment.compareTo(updateSegment) <= 0) {
                    Files.copy(pgWal.resolve(segment), archive.resolve(segment));
                }
            }
            for (int i = 0; i < 5 && Files.exists(pgWal.resolve(updateSegment)); i++) {
                server.psql("select pg_switch_wal(); checkpoint");
            }
            assertFalse(Files.exists(pgWal.resolve(updateSegment)), "the server recycled the segment of the update");

            assertEquals(List.of(), pg.find(new StatementQuery("UPDATE archived_orders", since, null, history)), "not in pg_wal any more");
            FoundStatements searched = pg.search(new StatementQuery("UPDATE archived_orders", since, null, history, null, archive));
            List<FoundStatement> found = searched.statements();
            assertEquals(1, found.size(), found.toString());
            assertTrue(update.holds(found.get(0)), update + " holds " + found.get(0));
            assertEquals(40, found.get(0).rows());
            assertTrue(found.get(0).description().startsWith("UPDATE public.archived_orders: 40 rows (xid "), found.get(0).description());
            assertTrue(searched.searchedFrom().order() <= update.before().value(), searched.toString());
            long xid = Long.parseLong(found.get(0).description().replaceAll(".*\\(xid (\\d+)\\)$", "$1"));
            List<FoundStatement> byXid = pg.find(new StatementQuery(null, null, null, history, xid, archive));
            assertEquals(1, byXid.size(), byXid.toString());
            assertTrue(byXid.get(0).description().matches("transaction " + xid + " \\(first record [0-9A-F]+/[0-9A-F]+\\): "
                    + "UPDATE public\\.archived_orders: 40 rows"), byXid.toString());
            assertEquals(found.get(0).position(), byXid.get(0).position());
        }
    }

    @Test
    void atWalLevelLogicalATruncateIsFoundByItsTruncateRecord() throws IOException {
        server.psql("alter system set wal_level = logical");
        server.restart();
        try {
            Instant since = Instant.now();
            server.psql("create table victim_logical (id int primary key); insert into victim_logical select generate_series(1, 50)");
            server.psql("create table bystander_logical (id int); insert into bystander_logical values (1)");
            Window truncate = run("begin; insert into victim_logical values (0); savepoint s; truncate victim_logical; commit");
            server.psql("vacuum full bystander_logical"); // a rewrite, not a TRUNCATE
            try (PostgresAdapter pg = login()) {
                List<FoundStatement> found = pg.find(new StatementQuery("TRUNCATE", since, null));
                assertEquals(1, found.size(), found.toString());
                assertTrue(truncate.holds(found.get(0)), truncate + " holds " + found.get(0));
                assertTrue(found.get(0).description().startsWith("TRUNCATE public.victim_logical"), found.get(0).description());
            }
        } finally {
            server.psql("alter system reset wal_level");
            server.restart();
        }
    }

    @Test
    void locateNamesTheSegmentFileOffsetAndTheBytesThere() throws IOException {
        server.psql("create table if not exists locate_traffic (n int); insert into locate_traffic values (1)");
        Lsn at = lsn("select pg_current_wal_flush_lsn()");
        server.psql("insert into locate_traffic values (2)"); // the record at 'at' is now followed and flushed
        try (PostgresAdapter pg = login()) {
            LogLocation where = pg.locate(at.position()).orElseThrow();
            String[] nameOffset = server.psql("select file_name || ' ' || file_offset from pg_walfile_name_offset('" + at + "')").out().strip()
                    .split(" ");
            assertEquals(nameOffset[0], where.file().getFileName().toString());
            assertEquals(Long.parseLong(nameOffset[1]), where.fileOffsetBytes());
            assertEquals(server.dataDir().resolve("pg_wal").toRealPath().resolve(nameOffset[0]), where.file());
            assertEquals(at.position(), where.position());
            int expectedLength = (int) Math.min(24, 4096 - where.fileOffsetBytes() % 4096);
            assertArrayEquals(readFile(where.file(), where.fileOffsetBytes(), expectedLength), where.expected());

            Lsn future = new Lsn(lsn("select pg_current_wal_insert_lsn()").value() + (1L << 30));
            assertTrue(pg.locate(future.position()).isEmpty(), "an LSN not yet written has no location");
        }
    }

    @Test
    void locateOnASegmentBoundaryNamesTheNextFileAtOffsetZero() throws IOException {
        server.psql("create table if not exists locate_traffic (n int)");
        Lsn boundary = lsn("select pg_switch_wal()");
        long size = Long.parseLong(server.psql("select setting from pg_settings where name = 'wal_segment_size'").out().strip());
        Lsn next = new Lsn((boundary.value() + size - 1) / size * size); // the switch ends the segment; the next one starts here
        server.psql("insert into locate_traffic values (3)"); // writes the first page of the next segment
        server.psql("checkpoint");
        String quirk = server.psql("select file_name from pg_walfile_name_offset('" + next + "')").out().strip();
        String nextFile = server.psql("select pg_walfile_name('" + new Lsn(next.value() + 1) + "')").out().strip();
        assertEquals(WalSegments.segmentNumber(nextFile, size) - 1, WalSegments.segmentNumber(quirk, size),
                "PostgreSQL names the previous file for an LSN on a segment boundary");
        try (PostgresAdapter pg = login()) {
            LogLocation where = pg.locate(next.position()).orElseThrow();
            assertEquals(nextFile, where.file().getFileName().toString());
            assertEquals(0, where.fileOffsetBytes());
            assertArrayEquals(readFile(where.file(), 0, 24), where.expected());
        }
    }

    @Test
    void withTheServerStoppedACopyOfItsDataDirGivesTheSameDropAndLocationAndEndsAfterTheLastRecord() throws IOException {
        Instant since = Instant.now();
        server.psql("create table offline_victim (id int primary key); insert into offline_victim select generate_series(1, 100)");
        Window drop = run("drop table offline_victim");
        server.psql("create table if not exists locate_traffic (n int); insert into locate_traffic values (4)");
        FoundStatement online;
        LogLocation onlineWhere;
        try (PostgresAdapter pg = login()) {
            List<FoundStatement> found = pg.find(new StatementQuery("DROP TABLE", since, null));
            assertEquals(1, found.size(), found.toString());
            online = found.get(0);
            assertTrue(drop.holds(online), drop + " holds " + online);
            onlineWhere = pg.locate(online.position()).orElseThrow();
        }
        // the copy as a view of the set would show it: the data dir on one member, pg_wal a symlink to a production path on another
        Path copy = tmp.resolve("offline-copy");
        Path production = Path.of("/srv/rewind-production-wal");
        server.stop();
        try {
            Files.createDirectories(copy.resolve("wal"));
            Tools.run(Duration.ofMinutes(2), "cp", "-a", server.dataDir().toString(), copy.resolve("data").toString()).assertOk();
            Files.move(copy.resolve("data/pg_wal"), copy.resolve("wal/pg_wal"));
            Files.createSymbolicLink(copy.resolve("data/pg_wal"), production.resolve("pg_wal"));
        } finally {
            server.restart();
        }
        LogFiles files = new LogFiles(Map.of("data", server.dataDir(), "wal", production), Map.of("data", copy.resolve("data"),
                "wal", copy.resolve("wal")), Map.of(WalFiles.DATA_DIRECTORY, server.dataDir().toString()), "a copy of the data dir");
        DatabaseAttachment attachment = new DatabaseAttachment("pgset", "postgresql", server.jdbcUrl(), PostgresServer.SUPERUSER, null, null,
                null, null, List.of(), Map.of(), null, Duration.ofSeconds(10), 0);
        try (PostgresAdapter pg = new PostgresAdapter(attachment, ConnectionPool.open(Engine.POSTGRESQL, server.jdbcUrl(),
                new Credentials(PostgresServer.SUPERUSER, null, null), "test-offline"), files)) {
            FoundStatements offline = pg.search(new StatementQuery("DROP TABLE", since, null));
            assertEquals(List.of(online.position()), offline.statements().stream().map(FoundStatement::position).toList(), offline.toString());
            LogLocation where = pg.locate(online.position()).orElseThrow();
            assertEquals(copy.resolve("wal/pg_wal").resolve(onlineWhere.file().getFileName()), where.file());
            assertEquals(onlineWhere.fileOffsetBytes(), where.fileOffsetBytes());
            assertArrayEquals(onlineWhere.expected(), where.expected());

            // the end is where the last record (the shutdown checkpoint) ends: nothing but zeroes follow it there
            Lsn end = new Lsn(offline.searchedTo().order());
            long size = Long.parseLong(server.psql("select setting from pg_settings where name = 'wal_segment_size'").out().strip());
            String segment = WalSegments.fileName(1, Long.divideUnsigned(end.value(), size), size);
            assertArrayEquals(new byte[8], readFile(copy.resolve("wal/pg_wal").resolve(segment), Long.remainderUnsigned(end.value(), size), 8),
                    "nothing is written at the end " + end);
            Lsn lastRecord = Lsn.parse(Tools.run(Duration.ofMinutes(1), "sh", "-c", "LC_ALL=C \"$1\" -D \"$2\" | sed -n "
                    + "'s/^Latest checkpoint location: *//p'", "sh", server.binDir().resolve("pg_controldata").toString(),
                    copy.resolve("data").toString()).assertOk().out().strip());
            assertTrue(end.compareTo(lastRecord) > 0 && end.value() - lastRecord.value() < 8192, end + " just after the checkpoint " + lastRecord);
            assertTrue(pg.locate(new Lsn(end.value() + 8).position()).isEmpty(), "past the end of the valid WAL nothing is located");
        }
    }

    private static byte[] readFile(Path file, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(file)) {
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                // until full
            }
        }
        assertEquals(length, b.position(), "the WAL file has the bytes");
        return b.array();
    }
}
