package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MariaDB story end to end, as a DBA lives it: MariaDB on a Rewind set (InnoDB on one
 * member, the binlog on another, {@link MariaDbOnRewind}); a workload inserting numbered rows;
 * {@code rewind db attach} with the password file, the mounts and the DBA's scripts; a
 * consistent bookmark mid-run; a {@code TRUNCATE TABLE orders} by mistake while the workload
 * goes on; {@code rewind db find} names it (one match, the right table, its exact seq), and
 * names the same seq once the DBA has stopped MariaDB (reading the binlog files on a read-only
 * view of the set); a coordinated restore, the server still stopped, to just before it ({@code rewind restore --before-binlog POS
 * --coordinated}, the command db find prints) stops MariaDB, restores, starts it and
 * validates. MariaDB applies a TRUNCATE to InnoDB before it writes its binlog event, so
 * "before" it is the file system's commit of the last binlog event before it, which Rewind
 * works out (a restore to the write just before the TRUNCATE's own event would bring back an
 * empty table, and one to the write of the last commit's event, before ext4 commits the
 * binlog's new size, would lose that commit). After it, {@code CHECK TABLE} is OK for every table of the schema, every row
 * whose commit returned before the TRUNCATE was issued is back, and no row whose insert was
 * issued after the TRUNCATE returned is.
 */
class MariaDbStoryIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BINLOG_POSITION = Pattern.compile("mysql-bin\\.\\d{6}:\\d+");
    private static final Duration PATIENCE = Duration.ofMinutes(3);
    private static final Duration RESTORE_TIMEOUT = Duration.ofMinutes(20);

    @TempDir
    Path dir;

    @Test
    void truncateIsUndoneToTheWriteBeforeItWithEveryCommittedRowBackAndNoneAfter() throws Exception {
        try (MariaDbOnRewind db = MariaDbOnRewind.create(dir)) {
            RewindServe serve = db.serve();
            db.sql("CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB; "
                    + "INSERT INTO shop.customers VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger'); "
                    + "CREATE TABLE shop.orders (id INT PRIMARY KEY, customer INT NOT NULL, note VARCHAR(80) NOT NULL, KEY (customer)) ENGINE=InnoDB; "
                    + "CREATE TABLE shop.scratch (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO shop.scratch VALUES (1); TRUNCATE TABLE shop.scratch");

            JsonNode attached = serve.json("db", "attach", RewindServe.SET, "--jdbc", db.jdbcUrl(), "--user", MariaDbOnRewind.USER,
                    "--password-file", db.passwordFile().toString(), "--stop-cmd", "sh " + db.stopScript(), "--start-cmd", "sh " + db.startScript(),
                    "--mount", MariaDbOnRewind.DATA + "=" + db.mountDir(MariaDbOnRewind.DATA),
                    "--mount", MariaDbOnRewind.BINLOG + "=" + db.mountDir(MariaDbOnRewind.BINLOG),
                    "--validate", "SELECT COUNT(*) = 3 FROM shop.customers", "--sample-every", "200ms", "--json");
            assertTrue(attached.get("version").asText().contains("MariaDB"), attached.toString());

            Set<Integer> committedBeforeTruncate;
            Set<Integer> issuedAfterTruncate;
            try (Workload workload = Workload.start(db)) {
                workload.awaitCommitted(150);
                JsonNode bookmark = serve.json("bookmark", RewindServe.SET, "mid-run", "--consistent", "--json");
                assertTrue(bookmark.get("consistent").asBoolean(), bookmark.toString());
                assertTrue(bookmark.get("dbPosition").asText().contains("mysql-bin."), "the bookmark carries the binlog position: " + bookmark);
                workload.awaitCommitted(300);

                try (Connection c = DriverManager.getConnection(db.jdbcUrl(), MariaDbOnRewind.USER, db.password());
                     Statement s = c.createStatement()) {
                    workload.truncateIssued.set(true);
                    s.execute("TRUNCATE TABLE orders");
                    workload.truncateReturned.set(true);
                }
                int after = workload.committed.get();
                workload.awaitCommitted(after + 40);
                workload.stop();
                committedBeforeTruncate = workload.numbers(workload.committedBeforeTruncate);
                issuedAfterTruncate = workload.numbers(workload.issuedAfterTruncate);
            }
            assertTrue(committedBeforeTruncate.size() >= 300, "rows committed before the TRUNCATE: " + committedBeforeTruncate.size());
            assertTrue(issuedAfterTruncate.size() >= 40, "rows inserted after the TRUNCATE: " + issuedAfterTruncate.size());
            Set<Integer> afterTruncate = ids(db);
            assertTrue(afterTruncate.containsAll(issuedAfterTruncate), "the rows inserted after the TRUNCATE are there: " + afterTruncate);
            assertTrue(afterTruncate.stream().noneMatch(committedBeforeTruncate::contains), "the TRUNCATE emptied the table: " + afterTruncate);

            JsonNode found = serve.json("db", "find", RewindServe.SET, "--sql", "TRUNCATE TABLE orders", "--json");
            JsonNode statements = found.get("statements");
            assertEquals(1, statements.size(), "one TRUNCATE of orders (not the one of scratch): " + found);
            JsonNode truncate = statements.get(0);
            assertTrue(truncate.get("description").asText().toLowerCase().contains("orders"), found.toString());
            String position = truncate.get("position").asText();
            assertTrue(BINLOG_POSITION.matcher(position).matches(), found.toString());
            assertTrue(truncate.get("seqBefore").isNumber() && truncate.get("exact").asBoolean(),
                    "the exact write of the TRUNCATE's binlog event is found through the binlog member's file system: " + found);
            long seqBefore = truncate.get("seqBefore").asLong();

            // the DBA stops MariaDB right after the mistake (its stop script unmounts the file systems too): the binlog is read
            // from its files on a read-only view of the set's newest seq, and the TRUNCATE is placed at the same seq
            db.stop();
            JsonNode offline = serve.json("db", "find", RewindServe.SET, "--sql", "TRUNCATE TABLE orders", "--json");
            System.out.println("MariaDbStoryIT: db find with the server stopped: " + offline);
            assertTrue(offline.get("logReadFrom").asText().matches("read binlog from a read-only view of seq \\d+ \\(server not running\\)"),
                    offline.toString());
            assertEquals(1, offline.get("statements").size(), offline.toString());
            assertEquals(position, offline.get("statements").get(0).get("position").asText(), offline.toString());
            assertEquals(seqBefore, offline.get("statements").get(0).get("seqBefore").asLong(), "the same seq as with the server up: " + offline);
            assertTrue(offline.get("searched").asText().startsWith("searched binlog mysql-bin."), offline.toString());
            assertTrue(!serve.ok("sandbox", "list", RewindServe.SET).out().contains(DatabaseLog.VIEW_PREFIX), "the views are dropped");

            // MariaDB applies a TRUNCATE to InnoDB before it writes the event to the binlog: the seq
            // db find gives (and --before-binlog restores to) is through the last event before it.
            assertEquals("rewind restore " + RewindServe.SET + " --before-binlog " + position + " --coordinated",
                    found.get("restoreCommand").asText(), found.toString());
            Tools.Result restored = serve.rewind(RESTORE_TIMEOUT, "restore", RewindServe.SET, "--before-binlog", position, "--coordinated", "--json");
            if (restored.exit() != 0) {
                fail("the coordinated restore failed: " + restored.describe() + "\n--- serve log:\n" + serve.log() + "\n--- error log:\n"
                        + db.errorLog());
            }
            JsonNode report = JSON.readTree(restored.out());
            assertTrue(report.get("ok").asBoolean(), report.toString());
            assertEquals(seqBefore, report.get("targetSeq").asLong(), "the restore goes to the seq db find named: " + report);
            assertTrue(report.get("targetFoundBy").asText().matches(".*; read binlog from a read-only view of seq \\d+ \\(server not running\\)"),
                    report.toString());
            List<String> steps = new ArrayList<>();
            report.get("steps").forEach(s -> steps.add(s.get("name").asText()));
            assertEquals(List.of("stop", "restore", "start", "accepting connections", "validate SELECT COUNT(*) = 3 FROM shop.customers"), steps,
                    report.toString());

            for (List<String> table : db.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop'")) {
                List<List<String>> check = db.sql("CHECK TABLE shop." + table.get(0));
                List<String> last = check.get(check.size() - 1);
                assertEquals(List.of("status", "OK"), last.subList(2, 4), "CHECK TABLE " + table.get(0) + ": " + check);
            }
            Set<Integer> rows = ids(db);
            Set<Integer> missing = new TreeSet<>(committedBeforeTruncate);
            missing.removeAll(rows);
            assertEquals(Set.of(), missing, "every row committed before the TRUNCATE is back; the table holds " + rows.size() + " rows");
            Set<Integer> returned = new TreeSet<>(issuedAfterTruncate);
            returned.retainAll(rows);
            assertEquals(Set.of(), returned, "no row inserted after the TRUNCATE is there");
        }
    }

    private static Set<Integer> ids(MariaDbOnRewind db) {
        return db.sql("SELECT id FROM shop.orders").stream().map(r -> Integer.parseInt(r.get(0))).collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * Inserts numbered rows into {@code orders}, one autocommit insert at a time, and records
     * each number whose commit returned before the TRUNCATE was issued, and each whose insert was
     * issued after the TRUNCATE returned (the rows in between may or may not survive).
     */
    private static final class Workload implements AutoCloseable {
        final AtomicBoolean truncateIssued = new AtomicBoolean();
        final AtomicBoolean truncateReturned = new AtomicBoolean();
        final AtomicInteger committed = new AtomicInteger();
        final ConcurrentLinkedQueue<Integer> committedBeforeTruncate = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Integer> issuedAfterTruncate = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean stopping = new AtomicBoolean();
        private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        private final Thread thread;

        private Workload(MariaDbOnRewind db) {
            thread = new Thread(() -> run(db), "orders-workload");
        }

        static Workload start(MariaDbOnRewind db) {
            Workload w = new Workload(db);
            w.thread.start();
            return w;
        }

        private void run(MariaDbOnRewind db) {
            try (Connection c = DriverManager.getConnection(db.jdbcUrl(), MariaDbOnRewind.USER, db.password());
                 PreparedStatement insert = c.prepareStatement("INSERT INTO orders (id, customer, note) VALUES (?, ?, ?)")) {
                for (int n = 1; !stopping.get(); n++) {
                    boolean afterTruncate = truncateReturned.get();
                    insert.setInt(1, n);
                    insert.setInt(2, 1 + n % 3);
                    insert.setString(3, "order " + n);
                    insert.executeUpdate();
                    if (!truncateIssued.get()) {
                        committedBeforeTruncate.add(n);
                    }
                    if (afterTruncate) {
                        issuedAfterTruncate.add(n);
                    }
                    committed.incrementAndGet();
                }
            } catch (SQLException | RuntimeException e) {
                failures.add(e);
            }
        }

        void awaitCommitted(int rows) throws InterruptedException {
            awaitUntil(() -> committed.get() >= rows ? 1 : 0, "the workload to commit " + rows + " rows");
        }

        private void awaitUntil(IntSupplier done, String what) throws InterruptedException {
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (done.getAsInt() == 0) {
                if (!failures.isEmpty()) {
                    throw new AssertionError("the workload failed", failures.peek());
                }
                if (System.nanoTime() > deadline) {
                    fail("waited " + PATIENCE + " for " + what + "; committed so far: " + committed.get());
                }
                Thread.sleep(50);
            }
        }

        void stop() throws InterruptedException {
            stopping.set(true);
            thread.join(PATIENCE.toMillis());
            if (!failures.isEmpty()) {
                throw new AssertionError("the workload failed", failures.peek());
            }
        }

        Set<Integer> numbers(ConcurrentLinkedQueue<Integer> q) {
            return new TreeSet<>(q);
        }

        @Override
        public void close() throws InterruptedException {
            stopping.set(true);
            thread.join(PATIENCE.toMillis());
        }
    }
}
