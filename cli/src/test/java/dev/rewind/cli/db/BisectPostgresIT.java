package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.tools.Tools;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind bisect} on a real PostgreSQL with data and WAL on two members
 * ({@link PostgresOnRewind}): pgbench traffic with a table {@code t} alongside, a consistent
 * bookmark, more traffic, {@code DROP TABLE t}, more traffic. Bisecting from the bookmark to the
 * newest write with the check "t exists" names the same write as {@code rewind db find --sql
 * 'DROP TABLE'} (the exact seq before the DROP's commit record reached the WAL member); a
 * check that always holds and one that never holds say so after probing only the two ends; no
 * {@code bisect-*} sandbox is left behind; production keeps running throughout and is unchanged,
 * until {@code --restore} brings it back, coordinated, to the last good write (table t is there).
 * Then, with production's control file overwritten, a bisect with a check that always holds
 * names the write where PostgreSQL stops starting ("the database did not start" is a failing
 * check), and only that step's work dir and log are kept.
 */
class BisectPostgresIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration BISECT_TIMEOUT = Duration.ofMinutes(30);
    private static final String TABLE_EXISTS = "select to_regclass('public.t') is not null";

    @TempDir
    Path dir;

    @Test
    void bisectNamesTheWriteDbFindNamesAndSaysSoWhenTheCheckNeverChanges() throws Exception {
        try (PostgresOnRewind pg = PostgresOnRewind.create(dir)) {
            RewindServe serve = pg.serve();
            pg.pgbench("-i", "-s", "1", "-q");
            pg.psql("postgres", "create table t (id int); insert into t select generate_series(1, 1000)");
            serve.ok("db", "attach", RewindServe.SET, "--jdbc", pg.jdbcUrl(), "--user", "postgres",
                    "--stop-cmd", "sh " + pg.stopScript(), "--start-cmd", "sh " + pg.startScript(),
                    "--mount", PostgresOnRewind.DATA + "=" + pg.dir().resolve("mnt-" + PostgresOnRewind.DATA),
                    "--mount", PostgresOnRewind.WAL + "=" + pg.dir().resolve("mnt-" + PostgresOnRewind.WAL));
            serve.ok("set", "update", RewindServe.SET, "--cut-writes", "300");
            pg.pgbench("-c", "2", "-T", "5");
            serve.json("bookmark", RewindServe.SET, "before", "--consistent", "--json");
            pg.pgbench("-c", "2", "-T", "5");
            Instant beforeDrop = Instant.now().minusSeconds(1);
            pg.psql("postgres", "drop table t");
            pg.pgbench("-c", "2", "-T", "3");

            JsonNode found = serve.json("db", "find", RewindServe.SET, "--sql", "DROP TABLE", "--since", beforeDrop.toString(), "--json");
            assertEquals(1, found.get("statements").size(), found::toString);
            JsonNode drop = found.get("statements").get(0);
            assertTrue(drop.get("exact").asBoolean(), drop::toString);
            long seqBefore = drop.get("seqBefore").asLong();

            Tools.Result bisect = serve.rewind(BISECT_TIMEOUT, "bisect", RewindServe.SET, "--good", "bookmark:before", "--check", TABLE_EXISTS,
                    "--json");
            System.out.println("BisectPostgresIT: bisect: " + bisect.out());
            assertEquals(0, bisect.exit(), () -> bisect.describe() + "\n--- serve log:\n" + serve.log());
            JsonNode r = JSON.readTree(bisect.out());
            assertEquals("found", r.get("outcome").asText(), r::toString);
            assertEquals(seqBefore, r.get("lastGoodSeq").asLong(), "bisect names the write db find names: " + r);
            assertEquals(seqBefore + 1, r.get("firstBadSeq").asLong());
            JsonNode steps = r.get("steps");
            int transactions = serve.status().get("transactions").asInt();
            long writes = r.get("badSeq").asLong() - r.get("goodSeq").asLong();
            assertTrue(steps.size() <= 2 + 64 - Long.numberOfLeadingZeros(transactions) + 64 - Long.numberOfLeadingZeros(writes),
                    steps.size() + " steps for " + transactions + " transactions and " + writes + " writes between");
            assertTrue(steps.get(2).get("boundary").asBoolean(), "whole transactions first: " + steps);
            assertTrue(r.get("restoreCommand").asText().contains("--to-seq " + seqBefore), r::toString);
            noBisectSandboxLeft(serve);

            // each step reaches the client as it ends; the client going (Ctrl-C) stops the bisect at its next step
            Process interrupted = serve.startRewind("bisect", RewindServe.SET, "--good", "bookmark:before", "--check", TABLE_EXISTS);
            BufferedReader printed = new BufferedReader(new InputStreamReader(interrupted.getInputStream(), StandardCharsets.UTF_8));
            String line = printed.readLine();
            while (line != null && !line.startsWith("step 1:")) {
                line = printed.readLine();
            }
            assertTrue(line != null && interrupted.isAlive(), "step 1 was printed while the bisect went on");
            interrupted.destroyForcibly();
            interrupted.waitFor();
            for (long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
                    !serve.log().contains("after its client had gone") && System.nanoTime() < end; ) {
                Thread.sleep(200);
            }
            assertTrue(serve.log().contains("after its client had gone") && !serve.log().contains("ended with exit 0 after its client"),
                    "the daemon's log says the bisect stopped early: " + serve.log());
            noBisectSandboxLeft(serve);

            Tools.Result always = serve.rewind(BISECT_TIMEOUT, "bisect", RewindServe.SET, "--good", "bookmark:before", "--check", "select true");
            assertEquals(1, always.exit(), always::describe);
            assertTrue(always.err().contains("the check holds at --good") && always.err().contains("and also at --bad"), always::describe);
            assertTrue(always.out().contains("step 2:") && !always.out().contains("step 3:"), "only the ends are probed: " + always.out());

            Tools.Result never = serve.rewind(BISECT_TIMEOUT, "bisect", RewindServe.SET, "--good", "bookmark:before", "--check",
                    "select count(*) from no_such_table");
            assertEquals(1, never.exit(), never::describe);
            assertTrue(never.err().contains("the check fails at --bad") && never.err().contains("no_such_table"), never::describe);
            noBisectSandboxLeft(serve);

            assertEquals("0", pg.psql("postgres", "select count(*) from pg_class where relname = 't'"),
                    "production still has no table t: bisect changed nothing there");

            Tools.Result restored = serve.rewind(BISECT_TIMEOUT, "bisect", RewindServe.SET, "--good", Long.toString(seqBefore - 3),
                    "--bad", Long.toString(seqBefore + 3), "--check", TABLE_EXISTS, "--restore", "--json");
            System.out.println("BisectPostgresIT: bisect --restore: " + restored.out());
            assertEquals(0, restored.exit(), () -> restored.describe() + "\n--- server log:\n" + pg.serverLog());
            JsonNode withRestore = JSON.readTree(restored.out());
            assertEquals(seqBefore, withRestore.get("lastGoodSeq").asLong(), withRestore::toString);
            assertTrue(withRestore.get("restore").get("ok").asBoolean(), withRestore::toString);
            assertEquals(seqBefore, withRestore.get("restore").get("targetSeq").asLong());
            pg.awaitAcceptingConnections();
            assertEquals("1000", pg.psql("postgres", "select count(*) from t"), "--restore brought production back to the last good write");
            noBisectSandboxLeft(serve);
            assertEquals(List.of(), bisectWorkDirs(serve), "the steps that answered left no work dir");

            // a write at which PostgreSQL cannot start (its control file overwritten) fails the check there, and its log is kept
            pg.psql("postgres", "checkpoint");
            long intact = serve.status().get("lastSeq").asLong();
            Path control = pg.dir().resolve("mnt-" + PostgresOnRewind.DATA).resolve("pgdata/global/pg_control");
            Files.write(control, new byte[(int) Files.size(control)]);
            Tools.run(Duration.ofSeconds(30), "sync", "-f", control.toString()).assertOk();
            Tools.Result damaged = serve.rewind(BISECT_TIMEOUT, "bisect", RewindServe.SET, "--good", Long.toString(intact),
                    "--check", "select true", "--json");
            System.out.println("BisectPostgresIT: bisect over a damaged control file: " + damaged.out());
            assertEquals(0, damaged.exit(), () -> damaged.describe() + "\n--- serve log:\n" + serve.log());
            JsonNode d = JSON.readTree(damaged.out());
            long firstBad = d.get("firstBadSeq").asLong();
            assertTrue(firstBad > intact, d::toString);
            JsonNode badStep = null;
            for (JsonNode step : d.get("steps")) {
                badStep = step.get("seq").asLong() == firstBad ? step : badStep;
            }
            assertTrue(badStep != null && badStep.get("detail").asText().startsWith("the database did not start: ")
                    && badStep.get("detail").asText().contains("FATAL:"), "the step names the server's reason: " + d);
            List<Path> kept = bisectWorkDirs(serve);
            assertTrue(!kept.isEmpty() && kept.stream().allMatch(w -> Files.exists(w.resolve("postgresql.log"))),
                    "the log of each step that did not start is kept: " + kept);
            noBisectSandboxLeft(serve);
            pg.psql("postgres", "checkpoint"); // production writes its control file anew
            for (Path w : kept) { // the kept logs were for a DBA; this test has read them
                try (var tree = Files.walk(w)) {
                    for (Path p : tree.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            for (Path emptied = bisectWorkDirsParent(serve); emptied.getFileName().toString().length() > 0
                    && !emptied.getFileName().toString().equals("sandboxes"); emptied = emptied.getParent()) {
                try {
                    Files.deleteIfExists(emptied);
                } catch (java.nio.file.DirectoryNotEmptyException e) {
                    break;
                }
            }
        }
    }

    private static Path bisectWorkDirsParent(RewindServe serve) {
        return SandboxDatabases.workDir(serve.data.toAbsolutePath().normalize(), RewindServe.SET, "x").getParent();
    }

    /** The bisect-* work dirs of the set under /run/rewind/sandboxes. */
    private static List<Path> bisectWorkDirs(RewindServe serve) throws java.io.IOException {
        Path ofSet = bisectWorkDirsParent(serve);
        if (!Files.isDirectory(ofSet)) {
            return List.of();
        }
        try (var list = Files.list(ofSet)) {
            return list.filter(p -> p.getFileName().toString().startsWith(SandboxCheck.NAME_PREFIX)).sorted().toList();
        }
    }

    private static void noBisectSandboxLeft(RewindServe serve) {
        JsonNode sandboxes = serve.json("sandbox", "list", RewindServe.SET, "--json");
        assertTrue(sandboxes.toString().indexOf(SandboxCheck.NAME_PREFIX) < 0, "no bisect-* sandbox is left: " + sandboxes);
    }
}
