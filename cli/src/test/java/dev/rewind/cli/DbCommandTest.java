package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.FoundStatement;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind db attach|show|detach|find}, {@code bookmark --consistent} and the restore
 * targets in database terms, against an H2 file database in this process: every bad input is
 * one line and stores nothing; the happy path round-trips.
 */
class DbCommandTest {
    @TempDir
    Path tmp;
    CliHarness cli;
    String h2Url;
    Path passwordFile;

    @BeforeEach
    void setUp() throws Exception {
        cli = new CliHarness(tmp);
        cli.createShop();
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            for (int i = 0; i < 3; i++) {
                set.device("data").write(i * 4096L, ByteBuffer.wrap(new byte[] {(byte) (i + 1)}), true);
            }
        }
        h2Url = "jdbc:h2:file:" + tmp.resolve("app/appdb");
        passwordFile = tmp.resolve("app.pw");
        Files.writeString(passwordFile, "s3cret-pw\n");
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        Files.createDirectories(tmp.resolve("mnt/data"));
    }

    private void nothingAttached() throws Exception {
        cli.refused("set shop has no database attached; attach one with: rewind db attach shop --jdbc URL", "db", "show", "shop");
    }

    @Test
    void badAttachmentsAreOneLineRefusalsThatStoreNothing() throws Exception {
        cli.refused("no set named nosuch", "db", "attach", "nosuch", "--jdbc", h2Url);
        cli.refused("names no database Rewind knows", "db", "attach", "shop", "--jdbc", "http://127.0.0.1/shop");
        cli.refused("the JDBC URL holds a password", "db", "attach", "shop", "--jdbc", h2Url + ";USER=sa;PASSWORD=secret");
        cli.refused("the JDBC URL holds a password", "db", "attach", "shop", "--jdbc", "jdbc:postgresql://127.0.0.1:5432/shop?password=x");
        cli.refused("set shop has no member named wal; its members: data, log", "db", "attach", "shop", "--jdbc", h2Url,
                "--mount", "wal=" + tmp.resolve("mnt/data"));
        cli.refused("is not a directory", "db", "attach", "shop", "--jdbc", h2Url, "--mount", "data=" + tmp.resolve("mnt/nothere"));
        cli.usage("is not MEMBER=DIR", "db", "attach", "shop", "--jdbc", h2Url, "--mount", "data");
        cli.usage("--consistent-every 'soon'", "db", "attach", "shop", "--jdbc", h2Url, "--consistent-every", "soon");
        cli.usage("--consistent-every '500ms' is too short", "db", "attach", "shop", "--jdbc", h2Url, "--consistent-every", "500ms");
        cli.usage("not both", "db", "attach", "shop", "--jdbc", h2Url, "--password-file", passwordFile.toString(), "--password-env", "PW");

        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-r--r--"));
        cli.refused("can be read by others; run: chmod 600", "db", "attach", "shop", "--jdbc", h2Url, "--user", "sa",
                "--password-file", passwordFile.toString(), "--no-check");
        cli.refused("cannot read password file", "db", "attach", "shop", "--jdbc", h2Url, "--password-file", tmp.resolve("missing.pw").toString());
        nothingAttached();
    }

    @Test
    void anUnreachableDatabaseIsRefusedWithTheAdaptersLineAndNothingIsStored() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        CliHarness.Run r = cli.refused("cannot reach H2 at jdbc:h2:tcp://127.0.0.1:" + port, "db", "attach", "shop",
                "--jdbc", "jdbc:h2:tcp://127.0.0.1:" + port + "/shopdb");
        assertTrue(r.err().contains("is the database running"), r.err());
        nothingAttached();
        cli.ok("db", "attach", "shop", "--jdbc", "jdbc:h2:tcp://127.0.0.1:" + port + "/shopdb", "--no-check");
        JsonNode show = cli.ok("db", "show", "shop", "--json").json();
        assertFalse(show.get("reachable").asBoolean(), "the database is down: show says so");
        assertTrue(show.get("unreachableReason").asText().contains("cannot reach"), show.toString());
        JsonNode database = cli.ok("status", "shop", "--json").json().get("sets").get(0).get("database");
        assertEquals("down", database.get("state").asText(), "status says the database is down: " + database);
        assertTrue(database.get("why").asText().contains("cannot reach"), database.toString());
        assertTrue(cli.ok("status", "shop").out().contains("database    h2 jdbc:h2:tcp://127.0.0.1:" + port + "/shopdb: DOWN (cannot reach"),
                "status in text");
    }

    @Test
    void attachShowDetachRoundTripsWithoutEverShowingThePassword() throws Exception {
        CliHarness.Run attached = cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString(),
                "--stop-cmd", "true", "--start-cmd", "true", "--validate", "select 1", "--validate", "select count(*) >= 0 from information_schema.tables",
                "--mount", "data=" + tmp.resolve("mnt/data"), "--consistent-every", "15m");
        assertTrue(attached.out().contains("attached h2 database " + h2Url + " to set shop (H2 2."), attached.out());

        CliHarness.Run show = cli.ok("db", "show", "shop");
        assertTrue(show.out().contains("password          from file " + passwordFile), show.out());
        assertTrue(show.out().contains("reachable         yes: H2 2."), show.out());
        assertTrue(show.out().contains("mount             data=" + tmp.resolve("mnt/data")), show.out());
        assertTrue(show.out().contains("consistent every  15m"), show.out());
        assertTrue(show.out().contains("next consistent   when rewind serve runs"), show.out());
        JsonNode json = cli.ok("db", "show", "shop", "--json").json();
        assertEquals("h2", json.get("engine").asText());
        assertEquals(2, json.get("validations").size());
        assertEquals("1s", json.get("sampleEvery").asText());
        assertEquals(0, json.get("samples").asInt());
        assertTrue(json.get("newestSample").isNull());
        assertFalse(show.out().contains("s3cret-pw") || json.toString().contains("s3cret-pw"), "the password is never shown");

        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString());
        JsonNode replaced = cli.ok("db", "show", "shop", "--json").json();
        assertEquals(0, replaced.get("validations").size(), "attaching again replaces");
        assertTrue(replaced.get("consistentEvery").isNull());

        cli.ok("db", "detach", "shop");
        nothingAttached();
        cli.refused("set shop has no database attached; nothing to detach", "db", "detach", "shop");
    }

    private int sampleCount() throws Exception {
        try (DataDir d = new DataDir(cli.data)) {
            return d.catalog().databases().sampleCount("shop");
        }
    }

    @Test
    void attachingAgainKeepsTheSampledPositionsAndForgetHistoryDropsThemSayingHowMany() throws Exception {
        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString());
        try (DataDir d = new DataDir(cli.data)) {
            d.catalog().databases().insertSamples(java.util.List.of(
                    new dev.rewind.volumeset.catalog.PositionSample("shop", 1, 0, "1", 1, "2", 2, null),
                    new dev.rewind.volumeset.catalog.PositionSample("shop", 2, 0, "3", 3, "4", 4, null)));
        }
        CliHarness.Run again = cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString(),
                "--sample-every", "5s");
        assertTrue(again.out().contains("kept 2 sampled position(s) of the earlier attachment (--forget-history drops them)"), again.out());
        assertEquals(2, sampleCount());
        cli.refused("set shop keeps 2 positions sampled from its h2 database, which mean nothing to postgresql; give --forget-history",
                "db", "attach", "shop", "--jdbc", "jdbc:postgresql://127.0.0.1:1/shop", "--no-check");
        assertEquals(2, sampleCount());
        CliHarness.Run forgot = cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString(),
                "--forget-history");
        assertTrue(forgot.out().contains("forgot 2 sampled position(s)"), forgot.out());
        assertEquals(0, sampleCount());
    }

    @Test
    void aConsistentBookmarkIsTakenThroughTheDatabaseAndStoredAsConsistent() throws Exception {
        cli.refused("set shop has no database attached; attach one with", "bookmark", "shop", "ok", "--consistent");
        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString());
        CliHarness.Run r = cli.ok("bookmark", "shop", "checkpointed", "--consistent");
        assertTrue(r.out().contains("bookmarked set shop at seq 3 as 'checkpointed', consistent: h2 CHECKPOINT SYNC"), r.out());
        JsonNode b = cli.ok("bookmark", "list", "shop", "--json").json().get("bookmarks").get(0);
        assertEquals("checkpointed", b.get("name").asText());
        assertEquals(3, b.get("seq").asLong());
        assertTrue(b.get("consistent").asBoolean());
        assertEquals("CHECKPOINT SYNC", b.get("dbPosition").asText());
        cli.refused("already has a bookmark named checkpointed", "bookmark", "shop", "checkpointed", "--consistent");
        cli.usage("cannot take --seq", "bookmark", "shop", "other", "--consistent", "--seq", "1");
    }

    @Test
    void restoreTargetsInDatabaseTermsNeedAMatchingDatabase() throws Exception {
        cli.refused("set shop has no database attached; attach one with: rewind db attach shop --jdbc URL",
                "restore", "shop", "--to-lsn", "0/3A0000F8");
        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString());
        cli.refused("--before-lsn names a postgresql position, but the database on set shop is h2; it keeps no log position",
                "restore", "shop", "--before-lsn", "0/3A0000F8");
        cli.refused("--to-binlog names a mariadb position", "restore", "shop", "--to-binlog", "mysql-bin.000003:1234", "--dry-run");
        cli.refused("--to-gtid names a mariadb position", "restore", "shop", "--to-gtid", "0-1-42", "--clone-to", tmp.resolve("c").toString());
        cli.refused("H2 keeps no log to search", "db", "find", "shop", "--sql", "DROP TABLE");
        cli.refused("--coordinated restores in place", "restore", "shop", "--to-seq", "1", "--coordinated", "--clone-to", tmp.resolve("c").toString());
        cli.refused("has no stop command and no start command for a coordinated restore", "restore", "shop", "--to-seq", "1", "--coordinated");
    }

    @Test
    void aServerThatDoesNotAnswerHasItsLogReadFromFilesOrIsRefusedSayingWhatToDo() throws Exception {
        cli.ok("db", "attach", "shop", "--jdbc", "jdbc:postgresql://127.0.0.1:1/shop", "--no-check");
        CliHarness.Run find = cli.refused("the database does not answer (", "db", "find", "shop", "--sql", "DROP TABLE");
        assertTrue(find.err().contains("start the database"), find.err());
        assertFalse(find.err().strip().contains("\n"), find.err());
        CliHarness.Run restore = cli.refused("the database does not answer (", "restore", "shop", "--before-lsn", "0/3A0000F8");
        assertTrue(restore.err().contains("start the database"), restore.err());
        cli.usage("--mount " + tmp.resolve("nothere") + ": no such directory", "db", "find", "shop", "--sql", "DROP TABLE",
                "--mount", tmp.resolve("nothere").toString());
        cli.usage("--mount says where to read the database's log files", "restore", "shop", "--to-seq", "1", "--mount", tmp.toString());
        cli.refused("the database's data dir was not recorded while it ran", "db", "find", "shop", "--sql", "DROP TABLE",
                "--mount", tmp.toString());
    }

    @Test
    void aCoordinatedDryRunListsTheStepsItWouldRunAndChangesNothing() throws Exception {
        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString(),
                "--stop-cmd", "touch " + tmp.resolve("stopped"), "--start-cmd", "touch " + tmp.resolve("started"),
                "--validate", "select 1");
        assertEquals("up", cli.ok("status", "shop", "--json").json().get("sets").get(0).get("database").get("state").asText(),
                "status says the database answers");
        String log = cli.ok("log", "shop").out();
        CliHarness.Run dry = cli.ok("restore", "shop", "--to-seq", "1", "--coordinated", "--dry-run");
        assertTrue(dry.out().contains("coordinated, it would run:\n  1. stop: touch " + tmp.resolve("stopped")
                + "\n  2. restore in place to seq 1\n  3. start: touch " + tmp.resolve("started")
                + "\n  4. wait until it accepts connections (up to 5m)\n  5. validate select 1"), dry.out());
        JsonNode json = cli.ok("--json", "restore", "shop", "--to-seq", "1", "--coordinated", "--dry-run").json();
        assertEquals(5, json.get("coordinatedSteps").size(), json.toString());
        assertFalse(Files.exists(tmp.resolve("stopped")) || Files.exists(tmp.resolve("started")), "no command ran");
        assertEquals(log, cli.ok("log", "shop").out(), "nothing was written");
    }

    @Test
    void aFailedCoordinatedStepSaysSoOnceAndUnderJsonIsOneDocumentWithItsSteps() throws Exception {
        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString(),
                "--stop-cmd", "echo 'FATAL: the service cannot be stopped'; echo bye; exit 3", "--start-cmd", "true");
        // (not cli.refused: the attached H2 database's own file changes when it is asked whether it still answers)
        CliHarness.Run text = cli.rewind("restore", "shop", "--to-seq", "1", "--coordinated");
        assertEquals(1, text.exit(), text.err());
        assertTrue(text.err().startsWith("rewind: stop command exited with 3: FATAL: the service cannot be stopped"),
                "the line of the stop command's output that explains it: " + text.err());
        assertEquals(1, text.err().strip().lines().count(), "one line on stderr: " + text.err());
        assertFalse(text.out().contains("nothing was restored"), "the reason is not printed a second time on stdout: " + text.out());
        assertTrue(text.err().contains("the database still answers"), "says whether the database is up: " + text.err());

        CliHarness.Run json = cli.rewind("--json", "restore", "shop", "--to-seq", "1", "--coordinated");
        assertEquals(1, json.exit(), json.err());
        List<JsonNode> docs = new com.fasterxml.jackson.databind.ObjectMapper().readerFor(JsonNode.class)
                .<JsonNode>readValues(json.out()).readAll();
        assertEquals(1, docs.size(), "exactly one JSON document on stdout: " + json.out());
        JsonNode doc = docs.get(0);
        assertEquals(1, doc.get("code").asInt(), doc.toString());
        assertTrue(doc.get("error").asText().startsWith("stop command exited with 3"), doc.toString());
        assertEquals("stop", doc.get("steps").get(0).get("name").asText(), "the steps travel in the error document: " + doc);
        assertFalse(doc.get("steps").get(0).get("ok").asBoolean(), doc.toString());
    }

    @Test
    void theLogShowsADbPositionColumnOnlyForASetWithADatabase() throws Exception {
        assertFalse(cli.ok("log", "shop").out().contains("DB POSITION"), "unchanged for a set without a database");
        assertFalse(cli.ok("log", "shop", "--json").json().get("entries").get(0).has("dbPosition"));
        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--no-check");
        assertTrue(cli.ok("log", "shop").out().contains("DB POSITION"));
        assertTrue(cli.ok("log", "shop", "--json").json().get("entries").get(0).get("dbPosition").isNull(), "no sample yet");
    }

    @Test
    void theDbPositionOfARestoresWritesIsItsTargetsAndAfterAnUndoThatOfTheLineageItWentBackTo() throws Exception {
        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--no-check");
        write(3 * 4096L); // seq 4
        sample(2, "A", 10);
        sample(4, "B", 20);
        cli.ok("restore", "shop", "--to-seq", "2");
        write(0); // after the restore
        long afterRestore = lastSeq();
        sample(afterRestore, "C", 15); // the database went on from A's state, on the restored lineage
        cli.ok("restore", "shop", "--to-seq", "4"); // the undo: back to B
        write(4096);
        long afterUndo = lastSeq();

        JsonNode log = cli.ok("log", "shop", "--json", "--limit", "1000").json();
        JsonNode restores = log.get("restores");
        assertEquals(2, restores.size(), log.toString());
        Map<Long, String> expected = new java.util.TreeMap<>();
        expected.put(1L, null);
        expected.put(2L, "A");
        expected.put(3L, "A");
        expected.put(4L, "B");
        for (JsonNode r : restores) {
            String target = r.get("targetSeq").asLong() == 2 ? "A" : "B";
            for (long seq = r.get("firstSeq").asLong(); seq <= r.get("lastSeq").asLong(); seq++) {
                expected.put(seq, target); // a restore's own writes: the position of the point it restores
            }
        }
        expected.put(afterRestore, "C");
        expected.put(afterUndo, "B"); // C was sampled on the lineage the undo left
        Map<Long, String> shown = new java.util.TreeMap<>();
        for (JsonNode e : log.get("entries")) {
            shown.put(e.get("seq").asLong(), e.get("dbPosition").isNull() ? null : e.get("dbPosition").asText());
        }
        assertEquals(expected, shown, log.toString());
        String text = cli.ok("log", "shop").out();
        assertTrue(text.lines().anyMatch(l -> l.matches("\\s+" + afterUndo + "\\s.*\\sB")), text);
    }

    private void write(long offset) throws Exception {
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            set.device("data").write(offset, ByteBuffer.wrap(new byte[] {42}), true);
        }
    }

    private long lastSeq() throws Exception {
        return cli.ok("status", "shop", "--json").json().get("sets").get(0).get("lastSeq").asLong();
    }

    private void sample(long seq, String position, long order) {
        try (DataDir d = new DataDir(cli.data)) {
            d.catalog().databases().insertSamples(List.of(
                    new dev.rewind.volumeset.catalog.PositionSample("shop", seq, 0, position, order, position, order, null)));
        }
    }

    @Test
    void findNeedsSqlOrXidAndTakesXidAndArchiveOnlyForPostgresql() throws Exception {
        cli.usage("give --sql with what the statement did, e.g. --sql 'DROP TABLE', or --xid", "db", "find", "shop");
        cli.usage("--xid 0 is not a transaction id", "db", "find", "shop", "--xid", "0");
        cli.usage("--top -1 is negative", "db", "find", "shop", "--sql", "UPDATE orders", "--top", "-1");
        cli.ok("db", "attach", "shop", "--jdbc", h2Url, "--user", "sa", "--password-file", passwordFile.toString());
        cli.refused("--xid and --archive search PostgreSQL's WAL; set shop's database is h2", "db", "find", "shop", "--xid", "5");
        cli.refused("--xid and --archive search PostgreSQL's WAL", "db", "find", "shop", "--sql", "UPDATE", "--archive", tmp.toString());
    }

    private static FoundStatement changed(int lsn, long rows) {
        return new FoundStatement(new DatabasePosition("0/" + lsn, lsn), Instant.EPOCH.plusSeconds(lsn), null, "UPDATE t", false, rows);
    }

    @Test
    void topKeepsTheStatementsThatChangedMostRowsThenTheNewestListedOldestFirst() {
        List<FoundStatement> found = List.of(changed(1, 5), changed(2, 10_000), changed(3, 5), changed(4, 1));
        assertEquals(List.of(found.get(1), found.get(2)), DbFindCommand.topByRows(found, 2));
        assertEquals(List.of(found.get(0), found.get(1), found.get(2)), DbFindCommand.topByRows(found, 3));
        assertEquals(found, DbFindCommand.topByRows(found, 0), "0 keeps all");
        assertEquals(found, DbFindCommand.topByRows(found, 4));
    }

    @Test
    void theHelpOfEachDbCommandHasExamples() throws IOException {
        for (String sub : new String[] {"attach", "show", "detach", "find"}) {
            CliHarness.Run r = CliHarness.rawOk("db", sub, "--help");
            assertTrue(r.out().contains("rewind db " + sub + " shop"), sub + ": " + r.out());
        }
    }
}
