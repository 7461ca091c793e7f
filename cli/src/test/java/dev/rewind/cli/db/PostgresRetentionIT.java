package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.tools.Tools;
import dev.rewind.volumeset.Times;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on a real database: PostgreSQL on Rewind ({@link PostgresOnRewind}) under {@code
 * pgbench -c 2 -j 2} in real time, the set cut every 5 s, a consistent bookmark every 20 s (the
 * first, {@code first}, in the first seconds), and {@code --keep
 * every-write:20s,transactions:1m,bookmarks:forever}: a DBA's {@code
 * every-write:2m,transactions:10m,bookmarks:forever} scaled down six times, so that all three
 * rules act within the {@value #RUN_SECONDS} seconds of the run and the suite stays short.
 * {@code rewind serve} runs its retention pass every minute, and {@code rewind retain} runs
 * half a minute away from it.
 *
 * <p>Afterwards: a dry run has nothing to fade out that the rules keep; {@code status} shows
 * every rule keeping points; the transactions between the old bookmarks are merged into one
 * per gap, holding no more bytes than the transactions they were made from, and the history
 * before them is dropped, so it holds fewer bytes than before the first pass;
 * the history begins at {@code first}; every bookmark is still a boundary; a point between two
 * old bookmarks is refused with the bookmarks around it named; and a sandbox at {@code
 * bookmark:first}, after everything around it has faded, starts PostgreSQL with its pgbench
 * tables whole and {@code pg_amcheck} clean.
 */
class PostgresRetentionIT {
    private static final String SET = RewindServe.SET;
    private static final int SCALE = 2;
    private static final int RUN_SECONDS = 135;
    private static final int FIRST_BOOKMARK_AT_SECONDS = 5;
    private static final int BOOKMARK_EVERY_SECONDS = 20;
    /** When the transaction log is recorded: every point on it is younger than the transactions rule, so none has gone yet. */
    private static final int SNAPSHOT_AT_SECONDS = 52;
    private static final Duration TRANSACTIONS_KEPT = Duration.ofMinutes(1);
    private static final String KEEP = "every-write:20s,transactions:1m,bookmarks:forever";

    @TempDir
    Path dir;

    /** A bookmark the test took: its name and seq. */
    private record Bookmark(String name, long seq) {
    }

    @Test
    void bookmarksOutliveTheMergedHistoryAroundThemAndTheFirstStillStartsPostgres() throws Exception {
        long created = System.nanoTime();
        try (PostgresOnRewind pg = PostgresOnRewind.create(dir)) {
            RewindServe serve = pg.serve();
            pg.pgbench("-i", "-s", Integer.toString(SCALE), "-q");
            serve.ok("db", "attach", SET, "--jdbc", pg.jdbcUrl(), "--user", "postgres",
                    "--mount", PostgresOnRewind.DATA + "=" + dir.resolve("mnt-" + PostgresOnRewind.DATA),
                    "--mount", PostgresOnRewind.WAL + "=" + dir.resolve("mnt-" + PostgresOnRewind.WAL));
            serve.ok("set", "update", SET, "--cut-every", "5s", "--keep", KEEP);

            System.out.printf("PostgresRetentionIT: PostgreSQL on Rewind with pgbench tables in %d s%n", seconds(created));
            // the daemon's pass fires a minute after the rules were set, and every minute after: the test's own passes
            // run half a minute away from it, so that the two never meet (the second to commit would find the log changed)
            Instant t0 = Instant.now();
            long started = System.nanoTime();
            int daemonFirst = (int) Duration.between(t0, retainJobNextFire(serve)).toSeconds();
            int daemonSecond = daemonFirst + 60;
            int ownPass = daemonFirst + 30;
            assertTrue(daemonFirst > SNAPSHOT_AT_SECONDS && daemonSecond + 10 < RUN_SECONDS, "the daemon's pass fires " + daemonFirst
                    + " s after the rules were set");
            System.out.printf("PostgresRetentionIT: the daemon's retention passes at %d s and %d s, the test's at %d s and after the run%n",
                    daemonFirst, daemonSecond, ownPass);

            List<Bookmark> bookmarks = new ArrayList<>();
            List<JsonNode> snapshot = null;
            List<JsonNode> beforeDaemon = null;
            Process pgbench = new ProcessBuilder(pg.pgbenchCommand("-c", "2", "-j", "2", "-T", Integer.toString(RUN_SECONDS)))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("pgbench.log").toFile()).start();
            try {
                for (int at = FIRST_BOOKMARK_AT_SECONDS; at < RUN_SECONDS; at++) {
                    boolean bookmark = (at - FIRST_BOOKMARK_AT_SECONDS) % BOOKMARK_EVERY_SECONDS == 0;
                    boolean snap = at == SNAPSHOT_AT_SECONDS;
                    boolean retain = at == ownPass;
                    boolean daemonCheck = at == daemonSecond - 4;
                    if (!bookmark && !snap && !retain && !daemonCheck) {
                        continue;
                    }
                    waitUntil(started, at);
                    assertTrue(pgbench.isAlive(), "pgbench stopped early: see " + dir.resolve("pgbench.log"));
                    if (bookmark) {
                        String name = bookmarks.isEmpty() ? "first" : "at-" + at + "s";
                        JsonNode b = serve.json("bookmark", SET, name, "--consistent", "--json");
                        assertTrue(b.get("consistent").asBoolean(), b.toString());
                        bookmarks.add(new Bookmark(name, b.get("seq").asLong()));
                    }
                    if (snap) {
                        snapshot = transactions(serve);
                    }
                    if (retain) {
                        long passStarted = System.nanoTime();
                        JsonNode pass = serve.json("retain", SET, "--json");
                        System.out.printf("PostgresRetentionIT: retain at %d s: %d transaction(s) dropped, %d merge(s), %s bytes freed, %d s%n",
                                at, pass.get("transactionsDropped").asInt(), pass.get("merges").asInt(), pass.path("bytesFreed").asText("0"),
                                seconds(passStarted));
                        assertEquals(0, pass.get("bookmarksGoing").size(), "bookmarks:forever keeps every bookmark: " + pass);
                    }
                    if (daemonCheck) {
                        beforeDaemon = transactions(serve);
                    }
                }
                theDaemonsPassMerged(serve, beforeDaemon);
                assertTrue(pgbench.waitFor(RUN_SECONDS, TimeUnit.SECONDS), "pgbench did not end after -T " + RUN_SECONDS);
                assertEquals(0, pgbench.exitValue(), "pgbench failed: see " + dir.resolve("pgbench.log"));
            } finally {
                if (pgbench.isAlive()) {
                    pgbench.destroyForcibly();
                    pgbench.waitFor(30, TimeUnit.SECONDS);
                }
            }
            System.out.printf("PostgresRetentionIT: %d s of pgbench, %d bookmarks%n", seconds(started), bookmarks.size());

            JsonNode lastPass = serve.json("retain", SET, "--json");
            Instant beforeDryRun = Instant.now();
            JsonNode dryRun = serve.json("retain", SET, "--dry-run", "--json");
            Instant afterDryRun = Instant.now();
            System.out.println("PostgresRetentionIT: last pass: " + lastPass + "\ndry run: " + dryRun);
            nothingGoesThatTheRulesKeep(serve, dryRun, bookmarks, afterDryRun);
            everyRuleKeepsPoints(dryRun.get("rules"), bookmarks, beforeDryRun);
            everyRuleKeepsPoints(serve.status().get("retention").get("rules"), bookmarks, beforeDryRun);
            assertFalse(serve.log().contains("scheduled retain of set"), "the daemon's passes succeeded:\n" + serve.log());

            Bookmark first = bookmarks.get(0);
            Bookmark second = bookmarks.get(1);
            Bookmark third = bookmarks.get(2);
            JsonNode status = serve.status();
            System.out.printf("PostgresRetentionIT: seq %d, history from seq %d, every write exact from seq %d; journal %d bytes, increments %d%n",
                    status.get("lastSeq").asLong(), status.get("oldestSeq").asLong(), status.get("oldestExactSeq").asLong(),
                    status.get("journalBytes").asLong(), status.get("incrementBytes").asLong());
            assertEquals(first.seq(), status.get("oldestSeq").asLong(), "the history begins at the first bookmark, all before it faded: " + status);
            theGapsBetweenOldBookmarksAreMergedIntoFewerBytes(transactions(serve), snapshot, first, second, third);
            everyBookmarkIsABoundary(serve, bookmarks);
            aPointBetweenTwoOldBookmarksIsRefused(serve, snapshot, second, third, status.get("oldestExactSeq").asLong());

            long sandboxStarted = System.nanoTime();
            theFirstBookmarkStartsPostgresOnASandbox(serve, pg);
            System.out.printf("PostgresRetentionIT: the sandbox at bookmark:first took %d s; the test %d s since pgbench started%n",
                    seconds(sandboxStarted), seconds(started));
        }
    }

    /** Every point the dry run would fade out is older than the transactions rule and no bookmark's. */
    private static void nothingGoesThatTheRulesKeep(RewindServe serve, JsonNode dryRun, List<Bookmark> bookmarks, Instant afterDryRun) {
        Map<Long, Instant> ends = new HashMap<>();
        for (JsonNode t : transactions(serve)) {
            ends.put(t.get("lastSeq").asLong(), Times.parse(t.get("end").asText()));
        }
        for (JsonNode going : dryRun.get("going")) {
            long seq = going.asLong();
            assertFalse(bookmarks.stream().anyMatch(b -> b.seq() == seq), "bookmark point seq " + seq + " would go: " + dryRun);
            Instant end = ends.get(seq);
            assertTrue(end == null || end.isBefore(afterDryRun.minus(TRANSACTIONS_KEPT)),
                    "point seq " + seq + " of " + end + " would go, younger than " + TRANSACTIONS_KEPT + ": " + dryRun);
        }
        assertEquals(0, dryRun.get("bookmarksGoing").size(), dryRun.toString());
    }

    /** every-write keeps the newest points, transactions those of the last minute, bookmarks every bookmark. */
    private static void everyRuleKeepsPoints(JsonNode rules, List<Bookmark> bookmarks, Instant before) {
        Map<String, JsonNode> byRule = new HashMap<>();
        rules.forEach(r -> byRule.put(r.get("rule").asText(), r));
        for (String rule : List.of("every-write:20s", "transactions:1m", "bookmarks:forever")) {
            assertTrue(byRule.containsKey(rule) && byRule.get(rule).get("points").asInt() > 0, rule + " keeps points: " + rules);
        }
        assertEquals(bookmarks.size(), byRule.get("bookmarks:forever").get("points").asInt(), "one point per bookmark: " + rules);
        assertEquals(bookmarks.get(0).seq(), byRule.get("bookmarks:forever").get("oldestSeq").asLong(), rules.toString());
        Instant oldestOfTheMinute = Times.parse(byRule.get("transactions:1m").get("oldestTime").asText());
        assertFalse(oldestOfTheMinute.isBefore(before.minus(TRANSACTIONS_KEPT)), "transactions:1m keeps only the last minute: " + rules);
    }

    /**
     * The transactions between {@code first} and {@code second}, and between {@code second} and
     * {@code third}, recorded while all were younger than a minute, are now one merged
     * transaction per gap, holding no more bytes than they did; with the transactions before
     * {@code first} dropped, the history up to {@code third} holds fewer bytes than it did.
     */
    private static void theGapsBetweenOldBookmarksAreMergedIntoFewerBytes(List<JsonNode> now, List<JsonNode> before, Bookmark first,
            Bookmark second, Bookmark third) {
        List<JsonNode> was = between(before, first.seq(), third.seq());
        List<JsonNode> is = between(now, first.seq(), third.seq());
        long historyBefore = stored(between(before, Long.MIN_VALUE, third.seq()));
        long historyAfter = stored(between(now, Long.MIN_VALUE, third.seq()));
        System.out.printf("PostgresRetentionIT: seqs %d..%d: %d transactions of %d bytes, now %d of %d bytes; up to seq %d: %d bytes, now %d%n",
                first.seq() + 1, third.seq(), was.size(), stored(was), is.size(), stored(is), third.seq(), historyBefore, historyAfter);
        assertTrue(was.size() > 2 && was.stream().allMatch(t -> t.get("merged").asInt() == 1), "cut every 5 s, not yet merged: " + was);
        assertEquals(List.of(second.seq(), third.seq()), is.stream().map(t -> t.get("lastSeq").asLong()).toList(),
                "one transaction from each bookmark to the next: " + is);
        for (JsonNode t : is) {
            assertTrue(t.get("merged").asInt() > 1, "older than a minute and between two bookmarks, so merged: " + t);
        }
        assertEquals(was.stream().mapToInt(t -> t.get("merged").asInt()).sum(), is.stream().mapToInt(t -> t.get("merged").asInt()).sum(),
                "the merged transactions account for the ones they were made from");
        // the bytes changed, not the bytes stored: a merge packs its extents into other compressed chunks, which can come out a
        // little larger (seen: 16,626,365 -> 16,649,278 bytes) though the union of the changes is never more than their sum
        assertTrue(changed(is) <= changed(was), "a merged transaction covers no more bytes than the ones it was made from: " + changed(was)
                + " -> " + changed(is));
        assertTrue(historyAfter < historyBefore, "retention freed increment bytes: " + historyBefore + " -> " + historyAfter);
    }

    /** bookmarks:forever: each is still a boundary, restorable. */
    private static void everyBookmarkIsABoundary(RewindServe serve, List<Bookmark> bookmarks) {
        JsonNode list = serve.json("bookmark", "list", SET, "--json").get("bookmarks");
        Map<String, JsonNode> byName = new HashMap<>();
        list.forEach(b -> byName.put(b.get("name").asText(), b));
        assertEquals(bookmarks.size(), list.size(), list.toString());
        for (Bookmark b : bookmarks) {
            JsonNode row = byName.get(b.name());
            assertEquals(b.seq(), row.get("seq").asLong(), row.toString());
            assertEquals("boundary", row.get("state").asText(), "bookmark " + b.name() + " outlives its history: " + row);
        }
    }

    /**
     * A boundary between {@code after} and {@code before} (both bookmarks older than the
     * transactions rule) that the journal no longer holds: it was merged away, so a restore to
     * it is refused, naming the two bookmarks as the nearest points.
     */
    private static void aPointBetweenTwoOldBookmarksIsRefused(RewindServe serve, List<JsonNode> snapshot, Bookmark after, Bookmark before,
            long oldestExactSeq) {
        long faded = between(snapshot, after.seq(), before.seq()).stream().mapToLong(t -> t.get("lastSeq").asLong())
                .filter(seq -> seq != before.seq() && seq < oldestExactSeq).max()
                .orElseThrow(() -> new AssertionError("no boundary between seq " + after.seq() + " and " + before.seq()
                        + " has left the journal (every write exact from seq " + oldestExactSeq + "): pgbench wrote too little"));
        Tools.Result r = serve.rewind("restore", SET, "--to-seq", Long.toString(faded), "--dry-run");
        assertEquals(1, r.exit(), r.describe());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), "one line: " + r.describe());
        assertTrue(line.contains("the nearest are seq " + after.seq() + " and seq " + before.seq()), "the bookmarks around it are named: "
                + r.describe());
    }

    /** A sandbox at {@code bookmark:first}: PostgreSQL starts, its pgbench tables are whole and balance, pg_amcheck passes. */
    private static void theFirstBookmarkStartsPostgresOnASandbox(RewindServe serve, PostgresOnRewind pg) throws SQLException {
        serve.ok("sandbox", "create", SET, "first", "--at", "bookmark:first");
        try {
            JsonNode started = serve.json("sandbox", "start", SET, "first", "--json");
            int port = started.get("port").asInt();
            try (Connection c = DriverManager.getConnection(started.get("jdbcUrl").asText(), "postgres", null); Statement s = c.createStatement()) {
                assertEquals(SCALE, count(s, "select count(*) from pgbench_branches"), "pgbench_branches has one row per scale unit");
                assertEquals(10L * SCALE, count(s, "select count(*) from pgbench_tellers"));
                assertEquals(100_000L * SCALE, count(s, "select count(*) from pgbench_accounts"));
                long history = count(s, "select count(*) from pgbench_history");
                long deltas = count(s, "select coalesce(sum(delta), 0) from pgbench_history");
                assertEquals(deltas, count(s, "select sum(abalance) from pgbench_accounts"), "account balances against the history");
                assertEquals(deltas, count(s, "select sum(bbalance) from pgbench_branches"), "branch balances against the history");
                assertEquals(deltas, count(s, "select sum(tbalance) from pgbench_tellers"), "teller balances against the history");
                System.out.println("PostgresRetentionIT: the sandbox at bookmark:first has " + history + " pgbench_history rows");
            }
            Tools.Result amcheck = pg.amcheck(port);
            assertEquals(0, amcheck.exit(), amcheck::describe);
            assertEquals("", amcheck.out().strip(), amcheck::describe);
        } finally {
            serve.rewind("sandbox", "stop", SET, "first");
        }
        serve.ok("sandbox", "drop", SET, "first");
    }

    /** When {@code rewind serve} runs its next retention pass of the set ({@code rewind schedule}). */
    private static Instant retainJobNextFire(RewindServe serve) {
        for (JsonNode job : serve.json("schedule", SET, "--json").get("jobs")) {
            if (job.get("job").asText().equals("retain")) {
                return Times.parse(job.get("nextFire").asText());
            }
        }
        throw new AssertionError("rewind serve has no retention job for a set with rules: " + serve.json("schedule", SET, "--json"));
    }

    /**
     * The daemon's pass, the only one between {@code before} and now, merged transactions that
     * had become older than a minute: waits (up to a minute) until the log shows it.
     */
    private static void theDaemonsPassMerged(RewindServe serve, List<JsonNode> before) throws InterruptedException {
        int mergedBefore = mergedAway(before);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        List<JsonNode> now;
        while (mergedAway(now = transactions(serve)) == mergedBefore) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("rewind serve's retention pass merged nothing in a minute: " + now + "\n" + serve.log());
            }
            TimeUnit.SECONDS.sleep(1);
        }
        assertTrue(mergedAway(now) > mergedBefore, "the daemon merged transactions: " + now);
    }

    /** How many transactions merging has made disappear: the sum over the log of (merged - 1). */
    private static int mergedAway(List<JsonNode> transactions) {
        return transactions.stream().mapToInt(t -> t.get("merged").asInt() - 1).sum();
    }

    /** The transactions after {@code fromSeq} up to {@code toSeq}, oldest first. */
    private static List<JsonNode> between(List<JsonNode> transactions, long fromSeq, long toSeq) {
        TreeMap<Long, JsonNode> byLast = new TreeMap<>();
        for (JsonNode t : transactions) {
            if (t.get("firstSeq").asLong() > fromSeq && t.get("lastSeq").asLong() <= toSeq) {
                byLast.put(t.get("lastSeq").asLong(), t);
            }
        }
        return List.copyOf(byLast.values());
    }

    private static long changed(List<JsonNode> transactions) {
        return transactions.stream().mapToLong(t -> t.get("changedBytes").asLong()).sum();
    }

    private static long stored(List<JsonNode> transactions) {
        return transactions.stream().mapToLong(t -> t.get("forwardStoredBytes").asLong() + t.get("backwardStoredBytes").asLong()).sum();
    }

    private static List<JsonNode> transactions(RewindServe serve) {
        List<JsonNode> rows = new ArrayList<>();
        serve.json("log", SET, "--transactions", "--json").get("transactions").forEach(rows::add);
        return rows;
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The workload runs in real time: waits until {@code seconds} have passed since {@code startedNanos}. */
    private static void waitUntil(long startedNanos, int seconds) throws InterruptedException {
        long left = startedNanos + TimeUnit.SECONDS.toNanos(seconds) - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    private static long seconds(long sinceNanos) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - sinceNanos);
    }
}
