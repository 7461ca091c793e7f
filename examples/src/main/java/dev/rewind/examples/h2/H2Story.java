package dev.rewind.examples.h2;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.ConsistentBookmark;
import dev.rewind.dbadapters.coordinate.CoordinatedRestore;
import dev.rewind.dbadapters.coordinate.CoordinatedRestoreReport;
import dev.rewind.dbadapters.coordinate.DatabaseControl;
import dev.rewind.dbadapters.h2.H2Adapter;
import dev.rewind.dbadapters.volumefs.H2OnSet;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.RestoreRecord;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.h2.jdbcx.JdbcDataSource;

/**
 * H2 in process on Rewind, the same story as the MariaDB and PostgreSQL examples: an H2
 * database whose file lives on a production volume set, an application inserting numbered
 * orders, a consistent bookmark taken through {@link H2Adapter} ({@code CHECKPOINT SYNC}),
 * a {@code DROP TABLE orders} by mistake while the application goes on (it creates the table
 * again and keeps inserting), the last write before the drop found in the set's journal, and
 * a coordinated restore to it ({@link CoordinatedRestore} with a {@link DatabaseControl} that
 * closes and opens the database in this process): stop, restore, start, wait, validate. Then
 * the consistent bookmark is restored the same way.
 *
 * <p>Run it with one command (builds Rewind first; no root, no packages needed):
 * <pre>
 *   examples/h2/run.sh [DIR]          # keeps its data dir in DIR, or in a new temp dir
 * </pre>
 * which runs {@code java -cp cli/target/rewind.jar:examples/target/classes dev.rewind.examples.h2.H2Story [DIR]}.
 * Afterwards {@code ./rewind --data DIR log shop} shows the writes and {@code ./rewind --data DIR
 * bookmark list shop} the consistent bookmark.
 */
public final class H2Story {
    static final String SET = "shop";
    static final String MEMBER = "data";
    static final String DATABASE = "shop";
    static final int ROWS_BEFORE_BOOKMARK = 150;
    static final int ROWS_BEFORE_DROP = 300;
    static final int ROWS_AFTER_DROP = 40;
    private static final String VALIDATION = "SELECT COUNT(*) > 0 FROM orders";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    /** What happened, for tests: the orders (ids) at each point, the seqs, and both restore reports. */
    public record Result(List<Integer> ordersBeforeDrop, List<Integer> ordersAfterDrop, long bookmarkSeq, List<Integer> ordersAtBookmark,
                         long seqBeforeDrop, CoordinatedRestoreReport restoreBeforeDrop, List<Integer> ordersAfterRestore,
                         CoordinatedRestoreReport restoreToBookmark, List<Integer> ordersAfterBookmarkRestore) {
    }

    private final DataDir data;
    private final PrintWriter out;
    private CapturedSet set;
    private H2OnSet mounted;
    private Connection app;

    public H2Story(DataDir data, PrintWriter out) {
        this.data = data;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("rewind-h2-story-");
        PrintWriter out = new PrintWriter(System.out, true);
        Result r;
        try (DataDir data = new DataDir(dir)) {
            r = new H2Story(data, out).run();
        }
        boolean whole = r.restoreBeforeDrop().ok() && r.ordersAfterRestore().equals(r.ordersBeforeDrop())
                && r.restoreToBookmark().ok() && r.ordersAfterBookmarkRestore().equals(r.ordersAtBookmark());
        out.println(whole ? "Every order committed before the DROP is back, none after it; the bookmark restores too."
                : "MISMATCH: the restored database is not what it was; see above.");
        out.println("Look around:  ./rewind --data " + dir.toAbsolutePath() + " log " + SET);
        System.exit(whole ? 0 : 1);
    }

    private void say(String format, Object... args) {
        if (out != null) {
            out.println(String.format(format, args));
        }
    }

    public Result run() throws Exception {
        data.initialize(null, null);
        VolumeManager vm = data.volumes();
        Path disks = Files.createDirectories(data.path().resolve("disks"));
        vm.createPv("disk1", disks.resolve("disk1.img"), 64 * Sizes.MIB);
        vm.createVg("vg0", List.of("disk1"), 4 * Sizes.MIB);
        vm.createLv(MEMBER, "vg0", 32 * Sizes.MIB);
        Sets.create(vm, SET, List.of("vg0/" + MEMBER), data.defaultSecondary(SET), ProgressListener.NONE);
        say("1. Volumes: PV disk1 in VG vg0, LV %s (32 MiB); production volume set '%s' = vg0/%s, every write numbered.", MEMBER, SET, MEMBER);
        try (CapturedSet opened = data.openSet(SET)) {
            set = opened;
            try {
                return story();
            } finally {
                stopDatabase();
            }
        }
    }

    private Result story() throws Exception {
        startDatabase();
        String url = mounted.jdbcUrl();
        DatabaseAttachment attachment = new DatabaseAttachment(SET, "h2", url, null, null, null, null, null, List.of(VALIDATION), Map.of(),
                null, Duration.ofSeconds(1), Times.micros(Instant.now()));
        JdbcDataSource connections = new JdbcDataSource();
        connections.setURL(url);
        try (H2Adapter adapter = new H2Adapter(attachment, connections)) {
            try (Statement s = app.createStatement()) {
                s.execute("CREATE TABLE orders(id INT PRIMARY KEY, customer INT NOT NULL, note VARCHAR(80) NOT NULL)");
            }
            insertOrders(1, ROWS_BEFORE_BOOKMARK);
            say("2. H2 on '%s' (%s): the application inserts orders 1..%d, one transaction each (now seq %d).", MEMBER, adapter.checkConnection(),
                    ROWS_BEFORE_BOOKMARK, set.lastSeq());

            BookmarkRecord bookmark = ConsistentBookmark.take(data.catalog(), set, adapter, "mid-run", Clock.systemUTC()).bookmark();
            List<Integer> atBookmark = orderIds();
            say("3. Consistent bookmark 'mid-run' through the H2 adapter (%s): seq %d, %d orders.", bookmark.dbPosition(), bookmark.seq(),
                    atBookmark.size());

            insertOrders(ROWS_BEFORE_BOOKMARK + 1, ROWS_BEFORE_DROP);
            List<Integer> beforeDrop = orderIds();
            Instant dropTime = Instant.now();
            try (Statement s = app.createStatement()) {
                s.execute("DROP TABLE orders");
                s.execute("CREATE TABLE orders(id INT PRIMARY KEY, customer INT NOT NULL, note VARCHAR(80) NOT NULL)");
            }
            insertOrders(ROWS_BEFORE_DROP + 1, ROWS_BEFORE_DROP + ROWS_AFTER_DROP);
            List<Integer> afterDrop = orderIds();
            say("4. Orders up to %d, then at %s someone runs:  DROP TABLE orders;", ROWS_BEFORE_DROP, TIME.format(dropTime));
            say("   The application creates the table again and goes on: %d orders now (%d..%d), seq %d.", afterDrop.size(),
                    ROWS_BEFORE_DROP + 1, ROWS_BEFORE_DROP + ROWS_AFTER_DROP, set.lastSeq());

            long target = set.seqAtTime(dropTime);
            say("5. The last write at or before %s: seq %d.", TIME.format(dropTime), target);
            for (long s = Math.min(set.lastSeq(), target + 2); s >= Math.max(1, target - 2); s--) {
                JournalRecord r = set.journalRecord(s);
                say("     seq %6d  %s  %-6s offset %9d  %6d bytes%s", s, TIME.format(r.time()), r.type().name().toLowerCase(), r.offsetBytes(),
                        r.lengthBytes(), s == target ? "   <- last write before the DROP" : "");
            }

            say("6. Coordinated restore to seq %d: stop H2, restore the set, start H2, wait for it, validate.", target);
            CoordinatedRestoreReport first = restoreCoordinated(attachment, adapter, target);
            List<Integer> afterRestore = orderIds();
            say("   %d orders (%s); the ones inserted after the DROP are gone.", afterRestore.size(), range(afterRestore));

            say("7. The consistent bookmark 'mid-run' restores the same way (seq %d).", bookmark.seq());
            CoordinatedRestoreReport second = restoreCoordinated(attachment, adapter, bookmark.seq());
            List<Integer> afterBookmark = orderIds();
            say("   %d orders (%s).", afterBookmark.size(), range(afterBookmark));
            return new Result(beforeDrop, afterDrop, bookmark.seq(), atBookmark, target, first, afterRestore, second, afterBookmark);
        }
    }

    private CoordinatedRestoreReport restoreCoordinated(DatabaseAttachment attachment, H2Adapter adapter, long target) {
        Optional<BookmarkRecord> nearest = data.catalog().listBookmarks(SET).stream().filter(b -> b.consistent() && b.seq() <= target)
                .max(Comparator.comparingLong(BookmarkRecord::seq));
        CoordinatedRestoreReport report = CoordinatedRestore.run(attachment, adapter, new InProcessControl(), () -> {
            RestoreResult r = set.restoreInPlace(target, ProgressListener.NONE);
            data.catalog().insertRestore(new RestoreRecord(SET, target, r.firstSeq(), r.lastSeq(), r.bytesWritten(), Times.micros(Instant.now())));
            return r;
        }, target, nearest, step -> say("     %-6s %6d ms  %s%s", step.ok() ? "ok" : "FAILED", step.took().toMillis(), step.name(),
                step.detail() == null || step.detail().isBlank() ? "" : ": " + step.detail()), Duration.ofMinutes(1));
        say("   %s", report.message());
        return report;
    }

    /** Stops and starts the H2 database of this story in this process: close it cleanly and unmount the member, or the reverse. */
    private final class InProcessControl implements DatabaseControl {
        @Override
        public String stop() throws IOException {
            stopDatabase();
            return "H2 shut down, member unmounted, set flushed";
        }

        @Override
        public String start() throws IOException {
            try {
                startDatabase();
            } catch (SQLException e) {
                throw new IOException("H2 does not open on the restored volume: " + e.getMessage(), e);
            }
            return "member mounted, H2 open";
        }
    }

    private void startDatabase() throws IOException, SQLException {
        mounted = H2OnSet.mount(set, MEMBER, DATABASE);
        app = DriverManager.getConnection(mounted.jdbcUrl());
    }

    private void stopDatabase() throws IOException {
        try {
            if (app != null && !app.isClosed()) {
                try (Statement s = app.createStatement()) {
                    s.execute("SHUTDOWN");
                }
                app.close();
            }
        } catch (SQLException e) {
            throw new IOException("cannot shut H2 down: " + e.getMessage(), e);
        } finally {
            app = null;
            if (mounted != null) {
                mounted.close();
                mounted = null;
            }
        }
        set.flush();
    }

    /** Inserts orders {@code from..to}, each in its own transaction (autocommit). */
    private void insertOrders(int from, int to) throws SQLException {
        try (PreparedStatement insert = app.prepareStatement("INSERT INTO orders VALUES (?, ?, ?)")) {
            for (int n = from; n <= to; n++) {
                insert.setInt(1, n);
                insert.setInt(2, 1 + n % 7);
                insert.setString(3, "order " + n);
                insert.executeUpdate();
            }
        }
    }

    /** The ids in {@code orders}, ascending; none when the database is not running (a restore whose start failed). */
    private List<Integer> orderIds() throws SQLException {
        List<Integer> ids = new ArrayList<>();
        if (app == null) {
            return ids;
        }
        try (Statement s = app.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM orders ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
        }
        return ids;
    }

    private static String range(List<Integer> ids) {
        return ids.isEmpty() ? "none" : ids.get(0) + ".." + ids.get(ids.size() - 1);
    }
}
