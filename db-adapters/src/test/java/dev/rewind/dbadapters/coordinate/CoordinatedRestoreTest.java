package dev.rewind.dbadapters.coordinate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.Adapters;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coordinated restores with real shell commands (they append to a log file, or fail) and a
 * real H2 database to wait for and validate; the restore step appends to the same log, so
 * the order of what ran is checked, and each failure rule is seen in the report.
 */
class CoordinatedRestoreTest {
    private static final Optional<BookmarkRecord> BOOKMARK = Optional.of(new BookmarkRecord("shop", "nightly", 40, 0, true, "CHECKPOINT SYNC"));
    private static final RestoreResult RESULT = new RestoreResult(50, 101, 105, 20480, 3);

    @TempDir
    Path tmp;
    Path log;
    String url;
    final List<Step> seen = new ArrayList<>();

    @BeforeEach
    void database() throws Exception {
        log = tmp.resolve("steps.log");
        url = "jdbc:h2:" + tmp.resolve("shop") + ";TRACE_LEVEL_FILE=0";
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE orders(id INT PRIMARY KEY)");
            s.execute("INSERT INTO orders VALUES (1), (2)");
        }
    }

    private String logging(String word) {
        return "echo " + word + " $REWIND_SET >> '" + log + "'";
    }

    private DatabaseAttachment attachment(String stop, String start, String jdbcUrl, List<String> validations) {
        return new DatabaseAttachment("shop", "h2", jdbcUrl, null, null, null, stop, start, validations, Map.of(), null,
                Duration.ofSeconds(1), 0);
    }

    private RestoreStep restoring(RestoreResult result) {
        return () -> {
            Files.writeString(log, "restore\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            return result;
        };
    }

    private CoordinatedRestoreReport run(DatabaseAttachment a, RestoreStep restore) {
        try (DatabaseAdapter adapter = Adapters.open(a)) {
            return CoordinatedRestore.run(a, adapter, restore, 50, BOOKMARK, seen::add, Duration.ofSeconds(2));
        }
    }

    private List<String> logged() throws IOException {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private List<String> stepNames(CoordinatedRestoreReport r) {
        return r.steps().stream().map(Step::name).toList();
    }

    @Test
    void stopRestoreStartWaitAndValidateRunInOrder() throws Exception {
        DatabaseAttachment a = attachment(logging("stop"), logging("start"), url, List.of("SELECT COUNT(*) = 2 FROM orders", "SELECT 1"));
        CoordinatedRestoreReport r = run(a, restoring(RESULT));
        assertTrue(r.ok(), r.message());
        assertEquals(List.of("stop shop", "restore", "start shop"), logged());
        assertEquals(List.of("stop", "restore", "start", "accepting connections", "validate SELECT COUNT(*) = 2 FROM orders", "validate SELECT 1"),
                stepNames(r));
        assertEquals(r.steps(), seen, "the listener heard of every step as it finished");
        assertTrue(r.steps().stream().allMatch(Step::ok));
        assertEquals(RESULT, r.result());
    }

    @Test
    void aFailingStopRestoresNothing() throws Exception {
        DatabaseAttachment a = attachment("echo cannot stop the server; exit 3", logging("start"), url, List.of());
        CoordinatedRestoreReport r = run(a, restoring(RESULT));
        assertFalse(r.ok());
        assertEquals(List.of(), logged(), "neither the restore nor the start ran");
        assertEquals("stop command exited with 3: cannot stop the server; nothing was restored, the volumes are unchanged; "
                + "the database still answers", r.message());
        assertNull(r.result());
    }

    @Test
    void aStopCommandThatFailsAfterStoppingTheDatabaseSaysItIsDownAndWhatItPrintedAboutWhy() throws Exception {
        String gone = "jdbc:h2:" + tmp.resolve("stopped").resolve("db") + ";IFEXISTS=TRUE";
        DatabaseAttachment a = attachment("echo 'pg_ctl: FATAL: could not remove the pid file: permission denied'; echo 'server stopped'; "
                + "echo 'exiting'; exit 1", logging("start"), gone, List.of());
        CoordinatedRestoreReport r = run(a, restoring(RESULT));
        assertFalse(r.ok());
        assertTrue(r.message().startsWith("stop command exited with 1: pg_ctl: FATAL: could not remove the pid file: permission denied"),
                "the line that explains the failure, not the wrapper's last words: " + r.message());
        assertTrue(r.message().contains("the database does NOT answer now") && r.message().contains("start it with its start command"),
                r.message());
        assertEquals(List.of(), logged(), "neither the restore nor the start ran");
    }

    @Test
    void aRefusedRestoreStartsTheDatabaseAgain() throws Exception {
        DatabaseAttachment a = attachment(logging("stop"), logging("start"), url, List.of());
        CoordinatedRestoreReport r = run(a, () -> {
            throw new RewindException("seq 50 is older than the history on hand");
        });
        assertFalse(r.ok());
        assertEquals(List.of("stop shop", "start shop"), logged());
        assertTrue(r.message().contains("refused: seq 50 is older") && r.message().contains("volumes are unchanged")
                && r.message().contains("started again"), r.message());
    }

    @Test
    void aRestoreThatFailsPartWayLeavesTheDatabaseStopped() throws Exception {
        DatabaseAttachment a = attachment(logging("stop"), logging("start"), url, List.of());
        CoordinatedRestoreReport r = run(a, () -> {
            throw new IOException("secondary read error at chunk 7");
        });
        assertFalse(r.ok());
        assertEquals(List.of("stop shop"), logged());
        assertTrue(r.message().contains("--resume"), r.message());
    }

    @Test
    void aFailingValidationGivesTheUndoSeqAndTheNearestConsistentBookmark() throws Exception {
        DatabaseAttachment a = attachment(logging("stop"), logging("start"), url, List.of("SELECT 1", "SELECT COUNT(*) FROM orders WHERE id > 2"));
        CoordinatedRestoreReport r = run(a, restoring(RESULT));
        assertFalse(r.ok());
        assertEquals(RESULT, r.result());
        assertEquals(List.of(true, true, true, true, true, false), r.steps().stream().map(Step::ok).toList());
        assertTrue(r.message().contains("validation failed") && r.message().contains("returned 0"), r.message());
        assertTrue(r.message().contains("rewind restore shop --to-seq 100"), r.message());
        assertTrue(r.message().contains("nightly (seq 40)"), r.message());
    }

    @Test
    void aFailingStartOrADatabaseThatNeverAnswersIsReportedWithTheUndoSeq() throws Exception {
        CoordinatedRestoreReport start = run(attachment(logging("stop"), "echo no such service >&2; exit 4", url, List.of()), restoring(RESULT));
        assertFalse(start.ok());
        assertTrue(start.message().contains("start command exited with 4: no such service") && start.message().contains("--to-seq 100"),
                start.message());

        String nowhere = "jdbc:h2:" + tmp.resolve("nowhere") + ";IFEXISTS=TRUE";
        CoordinatedRestoreReport silent = run(attachment(logging("stop"), logging("start"), nowhere, List.of()), restoring(RESULT));
        assertFalse(silent.ok());
        assertEquals("accepting connections", silent.steps().get(silent.steps().size() - 1).name());
        assertTrue(silent.message().contains("did not accept connections") && silent.message().contains("--to-seq 100"), silent.message());
    }

    @Test
    void anAttachmentWithoutStopOrStartCommandIsRefusedBeforeAnythingRuns() throws Exception {
        for (DatabaseAttachment a : List.of(attachment(null, logging("start"), url, List.of()), attachment(logging("stop"), " ", url, List.of()))) {
            try (DatabaseAdapter adapter = Adapters.open(a)) {
                RewindException e = assertThrows(RewindException.class,
                        () -> CoordinatedRestore.run(a, adapter, restoring(RESULT), 50, BOOKMARK, seen::add, Duration.ofSeconds(2)));
                assertTrue(e.getMessage().contains("rewind db attach shop") && e.getMessage().contains("--stop-cmd"), e.getMessage());
            }
        }
        assertEquals(List.of(), logged());
        assertEquals(List.of(), seen);
    }

    /** A control in this process that logs to the same file as the restore step; {@code failStop} makes its stop throw. */
    private DatabaseControl inProcess(boolean failStop) {
        return new DatabaseControl() {
            @Override
            public String stop() throws IOException {
                if (failStop) {
                    throw new IOException("the database is still writing");
                }
                append("closed");
                return "database closed";
            }

            @Override
            public String start() throws IOException {
                append("opened");
                return "";
            }
        };
    }

    private void append(String line) throws IOException {
        Files.writeString(log, line + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    @Test
    void aDatabaseInThisProcessIsStoppedAndStartedByItsControlWithoutCommands() throws Exception {
        DatabaseAttachment a = attachment(null, null, url, List.of("SELECT COUNT(*) = 2 FROM orders"));
        CoordinatedRestoreReport r;
        try (DatabaseAdapter adapter = Adapters.open(a)) {
            r = CoordinatedRestore.run(a, adapter, inProcess(false), restoring(RESULT), 50, BOOKMARK, seen::add, Duration.ofSeconds(2));
        }
        assertTrue(r.ok(), r.message());
        assertEquals(List.of("closed", "restore", "opened"), logged());
        assertEquals(List.of("stop", "restore", "start", "accepting connections", "validate SELECT COUNT(*) = 2 FROM orders"), stepNames(r));
        assertEquals("database closed", r.steps().get(0).detail());
        assertEquals(RESULT, r.result());
    }

    @Test
    void aFailingInProcessStopRestoresNothing() throws Exception {
        DatabaseAttachment a = attachment(null, null, url, List.of());
        CoordinatedRestoreReport r;
        try (DatabaseAdapter adapter = Adapters.open(a)) {
            r = CoordinatedRestore.run(a, adapter, inProcess(true), restoring(RESULT), 50, BOOKMARK, seen::add, Duration.ofSeconds(2));
        }
        assertFalse(r.ok());
        assertEquals(List.of(), logged(), "neither the restore nor the start ran");
        assertEquals("the database is still writing; nothing was restored, the volumes are unchanged; the database still answers", r.message());
        assertNull(r.result());
    }

    @Test
    void aCommandPastItsTimeoutIsKilledAndReported() {
        ShellCommand slow = new ShellCommand("stop command", "echo stopping; sleep 30", "shop", Duration.ofSeconds(3));
        RewindException e = assertThrows(RewindException.class, slow::run);
        assertTrue(e.getMessage().startsWith("stop command did not finish within") && e.getMessage().endsWith("stopping"), e.getMessage());
    }
}
