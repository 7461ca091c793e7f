package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DBA's story on PostgreSQL, through the {@code rewind} command only: data and WAL on two
 * members ({@link PostgresOnRewind}); {@code rewind db attach} with the DBA's stop.sh and
 * start.sh and the members' mounts; {@code pgbench -i -s 10}, then pgbench in the background
 * and a side workload that inserts numbered rows one commit at a time; a consistent bookmark
 * mid-run; {@code DROP TABLE pgbench_accounts}; {@code rewind db find --sql 'DROP TABLE'}
 * finds it with the exact seq before it; the DBA stops the database, and {@code db find} reads
 * the WAL from a read-only view of the set and names the same seq; {@code rewind restore
 * --before-lsn ... --coordinated}, resolving the LSN the same way with the server stopped,
 * restores, starts and validates. Then PostgreSQL runs, {@code pgbench_accounts} has
 * its million rows and balances against the history, {@code pg_amcheck} is clean, and every
 * side row whose commit returned before the DROP was issued is there and none issued after
 * the DROP returned (rows in flight meanwhile may go either way). A second story, on a
 * small database of its own: an {@code UPDATE} without a WHERE, found by its table and by its
 * transaction id and undone with the command {@code db find} prints, and two drops told apart
 * by the table names the daemon sampled.
 */
class PostgresStoryIT {
    private static final long ACCOUNTS = 10 * 100_000L;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** One side-workload commit: its number, and when it was issued and returned ({@link System#nanoTime}). */
    private record Commit(long n, long issuedNanos, long returnedNanos) {
    }

    @Test
    void droppedTableComesBackWithEverySideRowCommittedBeforeTheDropAndNoneAfter() throws Exception {
        try (PostgresOnRewind pg = PostgresOnRewind.create(dir)) {
            RewindServe serve = pg.serve();
            pg.pgbench("-i", "-s", "10", "-q");
            pg.psql("postgres", "create table side (n bigint primary key)");
            serve.ok("db", "attach", RewindServe.SET, "--jdbc", pg.jdbcUrl(), "--user", "postgres",
                    "--stop-cmd", "sh " + pg.stopScript(), "--start-cmd", "sh " + pg.startScript(),
                    "--mount", PostgresOnRewind.DATA + "=" + pg.dir().resolve("mnt-" + PostgresOnRewind.DATA),
                    "--mount", PostgresOnRewind.WAL + "=" + pg.dir().resolve("mnt-" + PostgresOnRewind.WAL),
                    "--validate", "select count(*) = 10 from pgbench_branches");

            Process pgbench = new ProcessBuilder(pg.pgbenchCommand("-c", "4", "-j", "2", "-T", "120"))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("pgbench.log").toFile()).start();
            ConcurrentLinkedQueue<Commit> commits = new ConcurrentLinkedQueue<>();
            AtomicBoolean stopSide = new AtomicBoolean();
            AtomicReference<Throwable> sideFailure = new AtomicReference<>();
            Thread side = new Thread(() -> sideWorkload(pg.jdbcUrl(), commits, stopSide, sideFailure), "side-workload");
            long dropIssued;
            long dropReturned;
            Instant beforeDrop;
            JsonNode bookmark;
            try {
                side.start();
                Thread.sleep(10_000);
                bookmark = serve.json("bookmark", RewindServe.SET, "mid-run", "--consistent", "--json");
                assertTrue(bookmark.get("consistent").asBoolean(), "bookmark --consistent: " + bookmark);
                Thread.sleep(10_000);

                beforeDrop = Instant.now().minusSeconds(1);
                try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", ""); Statement s = c.createStatement()) {
                    dropIssued = System.nanoTime();
                    s.execute("drop table pgbench_accounts");
                    dropReturned = System.nanoTime();
                }
                Thread.sleep(5_000); // the side workload goes on; the daemon samples the WAL position past the DROP
            } finally {
                stopSide.set(true);
                side.join(TimeUnit.MINUTES.toMillis(2));
                if (!pgbench.waitFor(1, TimeUnit.MINUTES)) { // its clients abort on the missing table
                    pgbench.destroyForcibly();
                    pgbench.waitFor(30, TimeUnit.SECONDS);
                }
            }
            assertEquals(null, sideFailure.get(), "the side workload failed before the restore");

            JsonNode found = serve.json("db", "find", RewindServe.SET, "--sql", "DROP TABLE", "--since", beforeDrop.toString(), "--json");
            System.out.println("PostgresStoryIT: db find: " + found);
            assertEquals(1, found.get("statements").size(), "one DROP TABLE since " + beforeDrop + ": " + found);
            JsonNode drop = found.get("statements").get(0);
            assertTrue(drop.get("exact").asBoolean(), "db find placed the DROP by its WAL record's write, not by samples: " + drop);
            String lsn = drop.get("position").asText();

            // the DBA stops the database right after the mistake (stop.sh: its file systems are unmounted too): the WAL is read
            // from a read-only view of the set's newest seq, and the drop is placed at the same seq as with the server up
            pg.stop();
            JsonNode offline = serve.json("db", "find", RewindServe.SET, "--sql", "DROP TABLE", "--since", beforeDrop.toString(), "--json");
            System.out.println("PostgresStoryIT: db find with the server stopped: " + offline);
            String source = offline.get("logReadFrom").asText();
            assertTrue(source.matches("read WAL from a read-only view of seq \\d+ \\(server not running\\)"), offline.toString());
            assertEquals(1, offline.get("statements").size(), offline.toString());
            JsonNode offlineDrop = offline.get("statements").get(0);
            assertEquals(lsn, offlineDrop.get("position").asText(), offline.toString());
            assertTrue(offlineDrop.get("exact").asBoolean(), offline.toString());
            assertEquals(drop.get("seqBefore").asLong(), offlineDrop.get("seqBefore").asLong(), "the same seq as with the server up");
            // the server recycled old segments as it stopped, so the view has fewer; the end is past the shutdown checkpoint
            assertTrue(order(offline.get("searchedTo").asText()) >= order(found.get("searchedTo").asText()), offline.toString());
            assertEquals("rewind restore " + RewindServe.SET + " --before-lsn " + lsn + " --coordinated", offline.get("restoreCommand").asText());
            assertTrue(serve.ok("db", "find", RewindServe.SET, "--sql", "DROP TABLE", "--since", beforeDrop.toString()).out()
                    .startsWith("read WAL from a read-only view of seq "), "the text says where the WAL was read too");
            assertFalse(serve.ok("sandbox", "list", RewindServe.SET).out().contains(DatabaseLog.VIEW_PREFIX), "the views are dropped");
            Tools.Result nowhere = serve.rewind("db", "find", RewindServe.SET, "--sql", "DROP TABLE", "--mount", dir.resolve("nowhere").toString());
            assertEquals(2, nowhere.exit(), nowhere.describe());
            assertTrue(nowhere.err().contains("--mount") && !nowhere.err().strip().contains("\n"), nowhere.describe());

            Tools.Result restore = serve.rewind("restore", RewindServe.SET, "--before-lsn", lsn, "--coordinated", "--json");
            System.out.println("PostgresStoryIT: restore --before-lsn " + lsn + " --coordinated: " + restore.out());
            assertEquals(0, restore.exit(), () -> restore.describe() + "\n--- server log:\n" + pg.serverLog());
            JsonNode report = JSON.readTree(restore.out());
            assertTrue(report.get("ok").asBoolean(), report.toString());
            assertEquals(drop.get("seqBefore").asLong(), report.get("targetSeq").asLong(), "the restore went to the seq db find named");
            assertTrue(report.get("targetFoundBy").asText().matches(".*; read WAL from a read-only view of seq \\d+ \\(server not running\\)"),
                    report.toString());

            pg.awaitAcceptingConnections(); // the start command brought it up; it accepts connections
            assertEquals(Long.toString(ACCOUNTS), pg.psql("postgres", "select count(*) from pgbench_accounts"), "pgbench_accounts is whole");
            String[] sums = pg.psql("postgres", "select (select sum(abalance) from pgbench_accounts), (select sum(bbalance) from pgbench_branches), "
                    + "(select sum(tbalance) from pgbench_tellers), (select coalesce(sum(delta), 0) from pgbench_history)").split("\\|");
            assertEquals(sums[3], sums[0], "sum of account balances against the history's deltas");
            assertEquals(sums[3], sums[1], "sum of branch balances against the history's deltas");
            assertEquals(sums[3], sums[2], "sum of teller balances against the history's deltas");
            Tools.Result amcheck = pg.amcheck();
            assertEquals(0, amcheck.exit(), amcheck::describe);
            assertEquals("", amcheck.out().strip(), amcheck::describe);

            Set<Long> present = new HashSet<>();
            for (String line : pg.psql("postgres", "select n from side").lines().toList()) {
                present.add(Long.parseLong(line.strip()));
            }
            List<Long> lostBefore = new ArrayList<>();
            List<Long> keptAfter = new ArrayList<>();
            int before = 0;
            int after = 0;
            for (Commit c : commits) {
                if (c.returnedNanos() < dropIssued) {
                    before++;
                    if (!present.contains(c.n())) {
                        lostBefore.add(c.n());
                    }
                } else if (c.issuedNanos() > dropReturned) {
                    after++;
                    if (present.contains(c.n())) {
                        keptAfter.add(c.n());
                    }
                }
            }
            System.out.println("PostgresStoryIT: " + before + " side rows committed before the DROP, " + after + " after it; bookmark "
                    + bookmark.get("seq") + ", restored to seq " + drop.get("seqBefore"));
            assertTrue(before > 0 && after > 0, "the side workload committed rows on both sides of the DROP: " + before + " / " + after);
            assertTrue(lostBefore.isEmpty(), "side rows committed before the DROP are missing: " + lostBefore);
            assertTrue(keptAfter.isEmpty(), "side rows committed after the DROP are there: " + keptAfter);

            aBookmarkPastTheHorizonIsRestoredWhileABackupReadsIt(pg, serve);
        }
    }

    /** An LSN {@code X/Y} as the number it stands for. */
    private static long order(String lsn) {
        String[] parts = lsn.split("/");
        return (Long.parseLong(parts[0], 16) << 32) + Long.parseLong(parts[1], 16);
    }

    /**
     * Then, on the same database: a consistent bookmark with 1000 rows, 1000 more rows and a
     * table of its own after it, and the every-write horizon (1s) moved past the bookmark. A
     * backup reads the bookmark's image ({@code nbdcopy} from {@code @bookmark:kept} to a pipe) and
     * stalls a quarter of the way while a coordinated restore of the set to the bookmark runs:
     * the restore finishes without waiting for the backup, the backup then completes with the
     * bytes of a copy read before the restore, and PostgreSQL starts with exactly the bookmark's rows.
     */
    private void aBookmarkPastTheHorizonIsRestoredWhileABackupReadsIt(PostgresOnRewind pg, RewindServe serve) throws Exception {
        String nbdcopy = Tools.require("nbdcopy", "libnbd-bin").toString();
        pg.psql("postgres", "create table at_bookmark (n int primary key); insert into at_bookmark select generate_series(1, 1000)");
        long bookmarkSeq = serve.json("bookmark", RewindServe.SET, "kept", "--consistent", "--json").get("seq").asLong();
        pg.psql("postgres", "insert into at_bookmark select generate_series(1001, 2000); "
                + "create table after_bookmark as select g, repeat('x', 400) as pad from generate_series(1, 300000) g; checkpoint");
        serve.ok("set", "update", RewindServe.SET, "--keep", "every-write:1s");
        awaitOldestExactSeqPast(pg, serve, bookmarkSeq);

        String export = serve.uri(RewindServe.SET + "/" + PostgresOnRewind.DATA + "@bookmark:kept");
        Process reference = new ProcessBuilder(nbdcopy, export, "-").redirectError(dir.resolve("nbdcopy-reference.log").toFile()).start();
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        long imageBytes = digest(reference.getInputStream(), expected, Long.MAX_VALUE);
        assertEquals(0, reference.waitFor(), "nbdcopy of the bookmark's image failed; see " + dir.resolve("nbdcopy-reference.log"));

        Process backup = new ProcessBuilder(nbdcopy, export, "-").redirectError(dir.resolve("nbdcopy-backup.log").toFile()).start();
        MessageDigest got = MessageDigest.getInstance("SHA-256");
        long copied = digest(backup.getInputStream(), got, imageBytes / 4);
        assertEquals(imageBytes / 4, copied, "the backup is under way");
        Tools.Result restore = serve.rewind(Duration.ofMinutes(10), "restore", RewindServe.SET, "--to-bookmark", "kept", "--coordinated", "--json");
        assertEquals(0, restore.exit(), () -> restore.describe() + "\n--- server log:\n" + pg.serverLog());
        assertEquals(bookmarkSeq, JSON.readTree(restore.out()).get("targetSeq").asLong(), restore.out());
        assertTrue(backup.isAlive(), "the backup was still reading while the restore ran");
        copied += digest(backup.getInputStream(), got, Long.MAX_VALUE);
        assertEquals(0, backup.waitFor(), "the backup failed; see " + dir.resolve("nbdcopy-backup.log"));
        assertEquals(imageBytes, copied);
        assertArrayEquals(expected.digest(), got.digest(), "the backup holds the bookmark's image");

        System.out.println("PostgresStoryIT: bookmark kept at seq " + bookmarkSeq + " past the every-write horizon; a backup of "
                + imageBytes + " bytes read it while the coordinated restore to it ran");
        pg.awaitAcceptingConnections();
        assertEquals("1000|500500", pg.psql("postgres", "select count(*), sum(n) from at_bookmark"), "exactly the rows at the bookmark");
        assertEquals("f", pg.psql("postgres", "select to_regclass('after_bookmark') is not null"), "no table made after the bookmark");

        // the undo, once the every-write horizon has passed the restore as well: the point it prints is a boundary that stays
        JsonNode restored = JSON.readTree(restore.out());
        assertTrue(restored.hasNonNull("undoSeq"), restore.out());
        long undoSeq = restored.get("undoSeq").asLong();
        long afterRestore = serve.json("status", RewindServe.SET, "--json").get("sets").get(0).get("lastSeq").asLong();
        // writes enough to seal the journal segment that holds the restore's last writes, so that the horizon can pass them
        pg.psql("postgres", "create table filler as select g, repeat('x', 400) as pad from generate_series(1, 300000) g; checkpoint");
        awaitOldestExactSeqPast(pg, serve, afterRestore);
        Tools.Result undo = serve.rewind(Duration.ofMinutes(10), "restore", RewindServe.SET, "--to-seq", Long.toString(undoSeq),
                "--coordinated", "--json");
        assertEquals(0, undo.exit(), () -> undo.describe() + "\n--- server log:\n" + pg.serverLog());
        pg.awaitAcceptingConnections();
        assertEquals("2000|2001000", pg.psql("postgres", "select count(*), sum(n) from at_bookmark"), "the rows after the bookmark are back");
        assertEquals("300000", pg.psql("postgres", "select count(*) from after_bookmark"), "and the table made after it");
        System.out.println("PostgresStoryIT: the restore to the bookmark undone at seq " + undoSeq + " after the horizon passed it");
    }

    /**
     * Writes and cuts until the set's oldest exact seq has passed {@code seq} (the horizon is
     * applied at each cut, to the writes older than it by the daemon's clock).
     */
    private static void awaitOldestExactSeqPast(PostgresOnRewind pg, RewindServe serve, long seq) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        pg.psql("postgres", "create table tick (at timestamptz default now())");
        while (true) {
            pg.psql("postgres", "insert into tick default values; checkpoint");
            serve.ok("cut", RewindServe.SET);
            JsonNode status = serve.json("status", RewindServe.SET, "--json").get("sets").get(0);
            if (status.get("oldestExactSeq").asLong() > seq) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the every-write horizon did not pass seq " + seq + " within 3 minutes: " + status);
            }
        }
    }

    /** Reads up to {@code limitBytes} of {@code in} (to its end, at most) into {@code digest}; how many bytes it read. */
    private static long digest(InputStream in, MessageDigest digest, long limitBytes) throws IOException {
        byte[] buf = new byte[1 << 16];
        long total = 0;
        while (total < limitBytes) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, limitBytes - total));
            if (n < 0) {
                break;
            }
            digest.update(buf, 0, n);
            total += n;
        }
        return total;
    }

    /**
     * {@code UPDATE t SET v = 0} without a WHERE, then {@code DROP TABLE t2} and {@code DROP
     * TABLE t3}: {@code db find --sql 'UPDATE t'} names the update with its 1000 rows, placed
     * exactly, and {@code --xid} finds the same transaction; {@code DROP TABLE t2} names t2's
     * drop and not t3's, and the other way round; the restore command db find prints brings
     * back every row as it was before the update (and t2 and t3, dropped after it).
     */
    @Test
    void anUpdateWithoutWhereIsFoundByTableAndByXidAndItsRestoreCommandBringsTheRowsBack() throws Exception {
        try (PostgresOnRewind pg = PostgresOnRewind.create(dir)) {
            RewindServe serve = pg.serve();
            pg.psql("postgres", "create table t (id int primary key, v int); insert into t select g, g * 3 from generate_series(1, 1000) g; "
                    + "create table t2 (id int); create table t3 (id int); create table ticks (n int)");
            String before = pg.psql("postgres", "select count(*) || ' ' || sum(v) from t");
            serve.ok("db", "attach", RewindServe.SET, "--jdbc", pg.jdbcUrl(), "--user", "postgres", "--sample-every", "200ms",
                    "--stop-cmd", "sh " + pg.stopScript(), "--start-cmd", "sh " + pg.startScript(),
                    "--mount", PostgresOnRewind.DATA + "=" + pg.dir().resolve("mnt-" + PostgresOnRewind.DATA),
                    "--mount", PostgresOnRewind.WAL + "=" + pg.dir().resolve("mnt-" + PostgresOnRewind.WAL),
                    "--validate", "select count(*) = 1000 from t");
            // the daemon reads the table names every few seconds: once it has, a one-row update of t is found by its name
            await(serve, pg, "UPDATE t", statements -> !statements.isEmpty() && !statements.get(statements.size() - 1).get("unnamed").asBoolean(),
                    () -> pg.psql("postgres", "update t set v = v where id = 1"));

            pg.psql("postgres", "update t set v = 0");
            pg.psql("postgres", "drop table t2");
            pg.psql("postgres", "drop table t3");
            JsonNode found = await(serve, pg, "UPDATE t", statements -> statements.stream()
                    .anyMatch(f -> f.get("rows").asLong() == 1000 && f.get("seqBefore").isNumber()), () -> { });
            JsonNode update = null;
            for (JsonNode f : found.get("statements")) {
                update = f.get("rows").asLong() == 1000 ? f : update;
            }
            String description = update.get("description").asText();
            assertTrue(description.matches("UPDATE public\\.t: 1000 rows \\(xid \\d+\\)"), found.toString());
            assertTrue(update.get("exact").asBoolean(), "placed by the write of its commit record, not by samples: " + update);
            assertFalse(update.get("unnamed").asBoolean(), update.toString());
            String command = "rewind restore " + RewindServe.SET + " --before-lsn " + update.get("position").asText() + " --coordinated";
            assertEquals(command, found.get("mostRowsRestoreCommand").asText(), found.toString());
            assertTrue(serve.ok("db", "find", RewindServe.SET, "--sql", "update t set v = 0").out().contains(description),
                    "the human output says what it found");

            String xid = description.replaceAll(".*\\(xid (\\d+)\\)$", "$1");
            JsonNode byXid = serve.json("db", "find", RewindServe.SET, "--xid", xid, "--json");
            assertEquals(1, byXid.get("statements").size(), byXid.toString());
            JsonNode transaction = byXid.get("statements").get(0);
            assertTrue(transaction.get("description").asText().matches("transaction " + xid + " \\(first record [0-9A-F]+/[0-9A-F]+\\): "
                    + "UPDATE public\\.t: 1000 rows"), transaction.toString());
            assertEquals(update.get("position"), transaction.get("position"));
            assertEquals(update.get("seqBefore"), transaction.get("seqBefore"));
            assertEquals(command, byXid.get("restoreCommand").asText());
            assertEquals(2, serve.rewind("db", "find", RewindServe.SET).exit(), "neither --sql nor --xid");

            JsonNode t2 = serve.json("db", "find", RewindServe.SET, "--sql", "DROP TABLE t2", "--json").get("statements");
            JsonNode t3 = serve.json("db", "find", RewindServe.SET, "--sql", "drop table public.t3", "--json").get("statements");
            assertEquals(1, t2.size(), t2.toString());
            assertEquals(1, t3.size(), t3.toString());
            assertTrue(t2.get(0).get("description").asText().startsWith("DROP TABLE public.t2:"), t2.toString());
            assertTrue(t3.get(0).get("description").asText().startsWith("DROP TABLE public.t3:"), t3.toString());
            assertTrue(t2.get(0).get("position").asText().compareTo(t3.get(0).get("position").asText()) != 0, "two drops, each its own");

            List<String> restore = new ArrayList<>(List.of(command.split(" ")).subList(1, command.split(" ").length));
            restore.add("--json");
            Tools.Result restored = serve.rewind(restore.toArray(String[]::new));
            assertEquals(0, restored.exit(), () -> restored.describe() + "\n--- server log:\n" + pg.serverLog());
            JsonNode report = JSON.readTree(restored.out());
            assertTrue(report.get("ok").asBoolean(), report.toString());
            assertEquals(update.get("seqBefore").asLong(), report.get("targetSeq").asLong(), "the restore went to the seq db find named");
            pg.awaitAcceptingConnections();
            assertEquals(before, pg.psql("postgres", "select count(*) || ' ' || sum(v) from t"), "every row as it was before the update");
            assertEquals("0", pg.psql("postgres", "select count(*) from t where v = 0"));
            assertEquals("t t", pg.psql("postgres", "select to_regclass('t2') is not null, to_regclass('t3') is not null").replace('|', ' '),
                    "t2 and t3, dropped after the update, are back too");
        }
    }

    /**
     * Runs {@code db find --sql sql --json}, doing {@code step} and a little traffic between
     * tries (the daemon samples the WAL position past it), until its statements satisfy
     * {@code done}; fails after two minutes.
     */
    private static JsonNode await(RewindServe serve, PostgresOnRewind pg, String sql, java.util.function.Predicate<List<JsonNode>> done,
            Runnable step) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        for (int i = 0; ; i++) {
            JsonNode found = serve.json("db", "find", RewindServe.SET, "--sql", sql, "--json");
            List<JsonNode> statements = new ArrayList<>();
            found.get("statements").forEach(statements::add);
            if (done.test(statements)) {
                return found;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("db find --sql '" + sql + "' did not find what was expected within 2 minutes: " + found
                        + "\n" + serve.log());
            }
            step.run();
            pg.psql("postgres", "insert into ticks values (" + i + ")");
            Thread.sleep(200);
        }
    }

    /** Inserts 1, 2, 3, ... one autocommitted row at a time, recording each commit that returned, until told to stop. */
    private static void sideWorkload(String url, ConcurrentLinkedQueue<Commit> commits, AtomicBoolean stop, AtomicReference<Throwable> failure) {
        AtomicLong next = new AtomicLong(1);
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
             PreparedStatement insert = c.prepareStatement("insert into side (n) values (?)")) {
            c.setAutoCommit(true);
            while (!stop.get()) {
                long n = next.getAndIncrement();
                insert.setLong(1, n);
                long issued = System.nanoTime();
                insert.executeUpdate();
                commits.add(new Commit(n, issued, System.nanoTime()));
                Thread.sleep(5);
            }
        } catch (SQLException | RuntimeException e) {
            failure.set(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
