package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Write order across two members at work: PostgreSQL's data directory on one member and its WAL
 * on the other ({@link PostgresOnRewind}), {@code pgbench -i -s 10}, then {@code pgbench -c 4 -j 2
 * -T 30}; the set is restored in place to 12 seeded-random seqs of that run (any write, not
 * bookmarks), each time through the DBA's scripts: stop.sh, {@code rewind restore --to-seq N},
 * start.sh. Each time PostgreSQL must recover and start, {@code pg_amcheck --all
 * --heapallindexed} must be clean, pgbench's tables must hold their rows and balance (accounts,
 * tellers, branches and history all sum to the same total: every pgbench transaction changes
 * all four by the same delta), and the later the seq, the more history rows (nothing committed
 * is lost, nothing uncommitted appears).
 */
class PostgresCrashConsistencyIT {
    /** Restores per run: 8 in the suite (each starts PostgreSQL and checks it, about 20 s); {@code -Drewind.crashRestores=N} for a longer run. */
    private static final int RESTORES = Integer.getInteger("rewind.crashRestores", 8);
    private static final long ACCOUNTS = 10 * 100_000L;

    @TempDir
    Path dir;

    static LongStream seeds() {
        return Seeds.of(0x9A5E_C0DEL);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void everyRandomSeqOfAPgbenchRunGivesAPostgresThatStartsAndIsWhole(long seed) throws Exception {
        System.out.println("PostgresCrashConsistencyIT: " + Seeds.describe(seed));
        Random random = new Random(seed);
        try (PostgresOnRewind pg = PostgresOnRewind.create(dir)) {
            RewindServe serve = pg.serve();
            pg.pgbench("-i", "-s", "10", "-q");
            long before = serve.status().get("lastSeq").asLong();
            pg.pgbench("-c", "4", "-j", "2", "-T", "30");
            long after = serve.status().get("lastSeq").asLong();
            pg.stop();
            System.out.println("PostgresCrashConsistencyIT: pgbench -T 30 wrote seqs " + (before + 1) + ".." + after);
            assertTrue(after - before >= RESTORES, "pgbench wrote only " + (after - before) + " writes");

            TreeSet<Long> picked = new TreeSet<>();
            while (picked.size() < RESTORES) {
                picked.add(before + 1 + (long) (random.nextDouble() * (after - before)));
            }
            Long[] order = picked.toArray(new Long[0]);
            for (int i = order.length - 1; i > 0; i--) { // restore in a seeded-random order, back and forth in time
                int j = random.nextInt(i + 1);
                Long t = order[i];
                order[i] = order[j];
                order[j] = t;
            }

            Map<Long, Long> historyRowsAt = new TreeMap<>();
            int n = 0;
            for (long seq : order) {
                n++;
                String what = Seeds.describe(seed) + ", restore " + n + " of " + RESTORES + " to seq " + seq;
                pg.stop();
                long target = serve.json("restore", RewindServe.SET, "--to-seq", Long.toString(seq), "--json").get("targetSeq").asLong();
                assertEquals(seq, target, what);
                pg.start();

                Tools.Result amcheck = pg.amcheck();
                assertEquals(0, amcheck.exit(), () -> what + ": pg_amcheck found problems:\n" + amcheck.describe());
                assertEquals("", amcheck.out().strip(), () -> what + ": pg_amcheck reported:\n" + amcheck.describe());

                String[] counts = pg.psql("postgres", "select (select count(*) from pgbench_accounts), (select count(*) from pgbench_branches), "
                        + "(select count(*) from pgbench_tellers), (select count(*) from pgbench_history)").split("\\|");
                assertEquals(ACCOUNTS, Long.parseLong(counts[0]), what + ": pgbench_accounts rows");
                assertEquals(10, Long.parseLong(counts[1]), what + ": pgbench_branches rows");
                assertEquals(100, Long.parseLong(counts[2]), what + ": pgbench_tellers rows");
                String[] sums = pg.psql("postgres", "select (select sum(abalance) from pgbench_accounts), (select sum(bbalance) from pgbench_branches), "
                        + "(select sum(tbalance) from pgbench_tellers), (select coalesce(sum(delta), 0) from pgbench_history)").split("\\|");
                assertEquals(sums[3], sums[0], what + ": sum of account balances against the history's deltas");
                assertEquals(sums[3], sums[1], what + ": sum of branch balances against the history's deltas");
                assertEquals(sums[3], sums[2], what + ": sum of teller balances against the history's deltas");
                historyRowsAt.put(seq, Long.parseLong(counts[3]));
                System.out.println("PostgresCrashConsistencyIT: " + what + ": starts, pg_amcheck clean, " + counts[3] + " history rows, balance "
                        + sums[3]);
            }

            long previous = -1;
            for (Map.Entry<Long, Long> e : historyRowsAt.entrySet()) {
                assertTrue(e.getValue() >= previous, Seeds.describe(seed) + ": seq " + e.getKey() + " has " + e.getValue()
                        + " history rows, an earlier seq had " + previous + ": " + historyRowsAt);
                previous = e.getValue();
            }
            assertTrue(historyRowsAt.values().stream().distinct().count() > 1,
                    "all " + RESTORES + " points hold the same history, so the restores did not go to different points: " + historyRowsAt);
        }
    }
}
