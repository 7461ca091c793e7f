package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.tools.Tools;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PostgreSQL database on a sandbox, as a DBA uses it ({@link PostgresOnRewind}: data and WAL
 * on two members, {@code pg_wal} an absolute symlink into the WAL member's mount): a table with
 * rows, a consistent bookmark, {@code DROP TABLE}; {@code rewind sandbox create} at the
 * bookmark and {@code rewind sandbox start} (the ext4 journals replay into the sandbox's
 * overlay, PostgreSQL recovers on its own port) WHILE production keeps writing; the dropped
 * table and its rows are on the sandbox port; the sandbox takes writes of its own; {@code
 * sandbox stop}. Production is untouched: it never gets the sandbox's table, it still has no
 * dropped table, its log shows no crash; and with production stopped, a sandbox start, write and
 * stop leave the set's last seq and its primary byte for byte as they were. Bad input: an
 * unknown sandbox, a set with no attached database, a port in use, a second start, a stop of
 * a database that does not run.
 */
class PostgresSandboxIT {
    @TempDir
    Path dir;

    @Test
    void droppedTableIsBackOnTheSandboxWhileProductionWritesAndProductionIsUntouched() throws Exception {
        try (PostgresOnRewind pg = PostgresOnRewind.create(dir)) {
            RewindServe serve = pg.serve();
            String set = RewindServe.SET;
            pg.psql("postgres", "create table kept as select g as id, 'row ' || g as note from generate_series(1, 500) g; "
                    + "create table ticks (id bigserial primary key, at timestamptz default now())");

            serve.ok("sandbox", "create", set, "early", "--at", "1");
            Tools.Result none = serve.rewind("sandbox", "start", set, "early");
            assertRefused(none, "has no database attached");
            serve.ok("sandbox", "drop", set, "early");

            JsonNode attached = serve.json("db", "attach", set, "--jdbc", pg.jdbcUrl(), "--user", "postgres",
                    "--mount", PostgresOnRewind.DATA + "=" + dir.resolve("mnt-" + PostgresOnRewind.DATA),
                    "--mount", PostgresOnRewind.WAL + "=" + dir.resolve("mnt-" + PostgresOnRewind.WAL), "--json");
            assertTrue(attached.get("serverSettingsRecorded").asBoolean(), attached.toString());
            sandboxOfABadConfigurationSaysWhyItsServerDidNotStart(serve, set);
            serve.ok("bookmark", set, "before-drop", "--consistent");
            pg.psql("postgres", "drop table kept");
            serve.ok("sandbox", "create", set, "sb", "--at", "bookmark:before-drop");

            assertRefused(serve.rewind("sandbox", "start", set, "nosuch"), "nosuch");
            try (ServerSocket taken = new ServerSocket()) {
                taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                assertRefused(serve.rewind("sandbox", "start", set, "sb", "--port", Integer.toString(taken.getLocalPort())), "in use");
            }

            int sandboxPort;
            try (Ticker production = Ticker.start(pg.jdbcUrl(), "postgres", null, "insert into ticks default values")) {
                production.awaitTicks(20);
                JsonNode started = serve.json("sandbox", "start", set, "sb", "--json");
                sandboxPort = started.get("port").asInt();
                assertNotEquals(pg.port(), sandboxPort);
                assertTrue(started.get("connect").asText().contains("port=" + sandboxPort), started.toString());
                long ticksAtStart = production.ticks();

                String sandboxUrl = started.get("jdbcUrl").asText();
                assertEquals("jdbc:postgresql://127.0.0.1:" + sandboxPort + "/postgres", sandboxUrl);
                try (Connection c = DriverManager.getConnection(sandboxUrl, "postgres", null); Statement s = c.createStatement()) {
                    assertEquals(500, count(s, "select count(*) from kept"), "the dropped table and its rows are on the sandbox");
                    assertEquals(125250, count(s, "select sum(id) from kept"));
                    s.execute("create table sandbox_only (id int primary key)");
                    s.execute("insert into sandbox_only select generate_series(1, 1000)");
                    s.execute("checkpoint");
                    assertEquals(1000, count(s, "select count(*) from sandbox_only"));
                }
                assertRefused(serve.rewind("sandbox", "start", set, "sb"), "already has its database running on port " + sandboxPort);
                production.awaitTicks(ticksAtStart + 20);
                assertTrue(production.ticks() > ticksAtStart, "production kept writing while the sandbox ran");
            }
            serve.ok("sandbox", "stop", set, "sb");
            assertRefused(serve.rewind("sandbox", "stop", set, "sb"), "no database runs on sandbox sb");
            assertFalse(canConnect(sandboxPort), "the sandbox's server is gone");

            assertEquals("f", pg.psql("postgres", "select to_regclass('sandbox_only') is not null"), "production never got the sandbox's table");
            assertEquals("f", pg.psql("postgres", "select to_regclass('kept') is not null"), "production still has no dropped table");

            // production stopped: a sandbox start, write and stop change neither the journal nor the primary
            pg.stop();
            long seqBefore = SandboxChecks.lastSeq(serve);
            String primaryBefore = SandboxChecks.sha256(dir.resolve("pv0.img"));
            JsonNode again = serve.json("sandbox", "start", set, "sb", "--json");
            try (Connection c = DriverManager.getConnection(again.get("jdbcUrl").asText(), "postgres", null); Statement s = c.createStatement()) {
                assertEquals(1000, count(s, "select count(*) from sandbox_only"), "the sandbox keeps what was written to it");
                s.execute("insert into sandbox_only select generate_series(1001, 2000)");
                s.execute("checkpoint");
            }
            serve.ok("sandbox", "stop", set, "sb");
            assertEquals(seqBefore, SandboxChecks.lastSeq(serve), "no write of the sandbox reached the set's journal");
            assertEquals(primaryBefore, SandboxChecks.sha256(dir.resolve("pv0.img")), "no write of the sandbox reached the primary");

            pg.start();
            assertEquals("f", pg.psql("postgres", "select to_regclass('sandbox_only') is not null"));
            String log = pg.serverLog();
            assertFalse(log.contains("was interrupted") || log.contains("PANIC") || log.contains("terminated by signal"),
                    "production's server log shows no crash:\n" + log);
            serve.ok("sandbox", "drop", set, "sb");
        }
    }

    /**
     * A sandbox of a point where postgresql.conf has a bad setting (written, synced and
     * bookmarked, then put back on production): its server exits at start, and the one-line
     * refusal quotes the FATAL that says so with the bad setting, not the server's last words.
     */
    private void sandboxOfABadConfigurationSaysWhyItsServerDidNotStart(RewindServe serve, String set) throws Exception {
        Path conf = dir.resolve("mnt-" + PostgresOnRewind.DATA).resolve("pgdata/postgresql.conf");
        String good = Files.readString(conf);
        Files.writeString(conf, good + "work_mem = 'lots'\n");
        Tools.run(Duration.ofSeconds(60), "sync", "-f", conf.toString()).assertOk();
        serve.ok("bookmark", set, "bad-conf");
        Files.writeString(conf, good);
        Tools.run(Duration.ofSeconds(60), "sync", "-f", conf.toString()).assertOk();

        serve.ok("sandbox", "create", set, "badconf", "--at", "bookmark:bad-conf");
        Tools.Result r = serve.rewind("sandbox", "start", set, "badconf");
        assertRefused(r, "postgresql.conf\" contains errors: invalid value for parameter \"work_mem\": \"lots\"");
        assertTrue(r.err().contains("FATAL:  configuration file"), r.describe());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.describe());
        serve.ok("sandbox", "drop", set, "badconf");
    }

    private static void assertRefused(Tools.Result r, String expected) {
        assertNotEquals(0, r.exit(), r.describe());
        assertTrue(r.err().contains(expected) || r.out().contains(expected), "expected '" + expected + "': " + r.describe());
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static boolean canConnect(int port) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
