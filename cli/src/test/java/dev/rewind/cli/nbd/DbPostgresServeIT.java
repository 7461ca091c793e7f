package dev.rewind.cli.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.postgres.PostgresServer;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PostgreSQL database attached to a set served by {@code rewind serve}: attach checks the
 * connection, the daemon samples the database's LSN against the set's seq at once, {@code db
 * show} reports it, {@code log} shows the LSN beside each seq, a consistent bookmark carries
 * the LSN, {@code schedule} lists the consistent-bookmark job, {@code db find} finds a drop
 * (the WAL is not on the set: placed only where two samples at consecutive seqs bracket it,
 * otherwise refused naming the nearest known positions), and an LSN past the history is refused with the set's
 * image unchanged.
 */
class DbPostgresServeIT {
    private static final Duration PATIENCE = Duration.ofMinutes(2);
    private static final Pattern LSN = Pattern.compile("[0-9A-F]+/[0-9A-F]+");

    @TempDir
    Path dir;

    @Test
    void attachSampleShowLogAndConsistentBookmarkUnderServe() throws Exception {
        try (PostgresServer pg = PostgresServer.start(); RewindServe serve = RewindServe.create(dir, "data", "4M")) {
            serve.start();
            Tools.Result refused = serve.rewind("db", "attach", RewindServe.SET, "--jdbc", "jdbc:postgresql://127.0.0.1:" + Tools.freePort() + "/x",
                    "--user", PostgresServer.SUPERUSER);
            assertEquals(1, refused.exit(), refused.describe());
            assertTrue(refused.err().contains("cannot reach"), refused.describe());

            JsonNode attached = serve.json("db", "attach", RewindServe.SET, "--jdbc", pg.jdbcUrl(), "--user", PostgresServer.SUPERUSER,
                    "--sample-every", "200ms", "--consistent-every", "1h", "--json");
            assertTrue(attached.get("version").asText().contains("PostgreSQL"), attached.toString());

            JsonNode show = null;
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            for (int i = 0; ; i++) {
                write(serve, i);
                pg.psql("create table if not exists t(x int); insert into t values (" + i + ")");
                show = serve.json("db", "show", RewindServe.SET, "--json");
                if (show.get("samples").asInt() >= 2) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    fail("no two samples within " + PATIENCE + ": " + show + "\n" + serve.log());
                }
                Thread.sleep(200);
            }
            assertTrue(show.get("reachable").asBoolean(), show.toString());
            assertTrue(show.get("nextConsistentBookmark").asText().matches("\\d{4}-.*Z"), show.toString());
            String durable = show.get("newestSample").get("durablePosition").asText();
            assertTrue(LSN.matcher(durable).matches(), show.toString());

            JsonNode jobs = serve.json("schedule", RewindServe.SET, "--json");
            assertTrue(jobs.toString().contains("\"consistent-bookmark\""), jobs.toString());

            JsonNode log = serve.json("log", RewindServe.SET, "--json");
            assertTrue(Arrays.stream(new JsonNode[] {log.get("entries").get(0)}).allMatch(e -> LSN.matcher(e.get("dbPosition").asText()).matches()),
                    "the newest seq has a sampled LSN beside it: " + log);
            assertTrue(serve.ok("log", RewindServe.SET).out().contains("DB POSITION"));

            JsonNode bookmark = serve.json("bookmark", RewindServe.SET, "before-change", "--consistent", "--json");
            assertTrue(bookmark.get("consistent").asBoolean(), bookmark.toString());
            assertTrue(LSN.matcher(bookmark.get("dbPosition").asText()).matches(), bookmark.toString());

            pg.psql("create table doomed(x int); insert into doomed values (1)");
            write(serve, 100);
            pg.psql("drop table doomed");
            awaitSamples(serve, show.get("samples").asInt() + 2, pg);
            JsonNode found = serve.json("db", "find", RewindServe.SET, "--sql", "DROP TABLE", "--json");
            JsonNode statements = found.get("statements");
            assertTrue(statements.size() >= 1, found.toString());
            JsonNode drop = statements.get(statements.size() - 1);
            assertTrue(LSN.matcher(drop.get("position").asText()).matches(), found.toString());
            assertTrue(found.get("searched").asText().startsWith("searched LSN "), found.toString());
            // the database's WAL is not on the set's members, so only samples can place the drop: when two at consecutive seqs
            // bracket it, it is placed there with the command to paste; otherwise it is refused with the nearest known
            // positions (never moved to another sampled seq) and no command is offered
            if (drop.get("seqBefore").isNumber()) {
                assertTrue(drop.get("how").asText().startsWith("sampled: "), found.toString());
                assertEquals("rewind restore " + RewindServe.SET + " --before-lsn " + drop.get("position").asText() + " --coordinated",
                        found.get("restoreCommand").asText());
            } else {
                assertTrue(drop.get("how").asText().contains("cannot be placed exactly") && drop.get("how").asText().contains(
                        "the nearest known positions: before it "), found.toString());
                assertTrue(found.get("restoreCommand").isNull(), found.toString());
            }

            byte[] before = image(serve);
            Tools.Result outside = serve.rewind("restore", RewindServe.SET, "--to-lsn", "FFFF/FFFFFFF0");
            assertEquals(1, outside.exit(), outside.describe());
            assertTrue(outside.err().contains("outside the set's history"), outside.describe());
            assertFalse(outside.err().strip().contains("\n"), outside.describe());
            assertTrue(Arrays.equals(before, image(serve)), "the set's image is unchanged");

            serve.ok("db", "attach", RewindServe.SET, "--jdbc", pg.jdbcUrl(), "--user", PostgresServer.SUPERUSER, "--consistent-every", "1s");
            long until = System.nanoTime() + PATIENCE.toNanos();
            JsonNode auto = null;
            while (auto == null) {
                for (JsonNode b : serve.json("bookmark", "list", RewindServe.SET, "--json").get("bookmarks")) {
                    if (b.get("name").asText().matches("auto-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ")) {
                        auto = b;
                    }
                }
                if (auto == null && System.nanoTime() > until) {
                    fail("no scheduled consistent bookmark within " + PATIENCE + "\n" + serve.log());
                }
                Thread.sleep(200);
            }
            assertTrue(auto.get("consistent").asBoolean() && LSN.matcher(auto.get("dbPosition").asText()).matches(), auto.toString());

            pg.stop();
            serve.stop();
            serve.start(); // a database that is down does not keep the daemon from starting
            assertFalse(serve.json("db", "show", RewindServe.SET, "--json").get("reachable").asBoolean());
            pg.restart();

            serve.ok("db", "detach", RewindServe.SET);
            assertFalse(serve.ok("schedule", RewindServe.SET).out().contains("consistent-bookmark"), "detaching unschedules the bookmarks");
        }
    }

    /** Writes and advances the WAL until the daemon has stored {@code samples} samples. */
    private static void awaitSamples(RewindServe serve, int samples, PostgresServer pg) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        for (int i = 200; serve.json("db", "show", RewindServe.SET, "--json").get("samples").asInt() < samples; i++) {
            if (System.nanoTime() > deadline) {
                fail("fewer than " + samples + " samples within " + PATIENCE + "\n" + serve.log());
            }
            write(serve, i);
            pg.psql("insert into t values (" + i + ")");
            Thread.sleep(200);
        }
    }

    private static byte[] image(RewindServe serve) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(serve.dir.resolve("pv0.img")));
    }

    private static void write(RewindServe serve, int i) throws Exception {
        try (NbdTestClient client = NbdTestClient.open(serve.port(), RewindServe.SET + "/data")) {
            byte[] block = new byte[4096];
            block[0] = (byte) (i + 1);
            client.writeRequest(0, 1, (i % 64) * 4096L, block);
            assertEquals(0, client.readSimpleReply().error());
        }
    }
}
