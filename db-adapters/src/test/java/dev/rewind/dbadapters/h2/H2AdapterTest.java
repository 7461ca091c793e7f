package dev.rewind.dbadapters.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.Adapters;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.dbadapters.volumefs.H2OnSet;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The H2 adapter on an H2 database whose file lives on a captured set ({@link H2OnSet}). */
class H2AdapterTest {
    private static final long MEMBER_BYTES = 32L << 20;

    @TempDir
    Path tmp;

    private static DatabaseAttachment attachment(String set, String url, List<String> validations) {
        return new DatabaseAttachment(set, "h2", url, null, null, null, null, null, validations, Map.of(), null, Duration.ofSeconds(1), 0);
    }

    @Test
    void consistentPointsSeqIncludesTheCheckpointAndRestoresToACommittedState() throws Exception {
        try (TestSet t = TestSet.create(tmp, "h2point", MEMBER_BYTES); CapturedSet set = t.open()) {
            ConsistentPoint point;
            try (H2OnSet db = H2OnSet.mount(set, "m0", "shop");
                 DatabaseAdapter adapter = Adapters.open(attachment(set.name(), db.jdbcUrl(), List.of()))) {
                assertInstanceOf(H2Adapter.class, adapter);
                try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement()) {
                    // commits stay in memory until a checkpoint: only CHECKPOINT SYNC puts them on the set
                    s.execute("SET WRITE_DELAY 3600000");
                    s.execute("CREATE TABLE item(id INT PRIMARY KEY, name VARCHAR(100))");
                    s.execute("INSERT INTO item SELECT X, 'item ' || X FROM SYSTEM_RANGE(1, 500)");
                    long before = set.lastSeq();
                    point = adapter.consistentPoint("b1", set::lastSeq);
                    assertTrue(point.seq() > before, "CHECKPOINT SYNC wrote, and the fence came after it: " + before + " -> " + point.seq());
                    assertEquals(set.lastSeq(), point.seq(), "nothing was written after the fence");
                    assertEquals("CHECKPOINT SYNC", point.detail());
                    assertEquals(null, point.position());

                    s.execute("INSERT INTO item SELECT X, 'late ' || X FROM SYSTEM_RANGE(501, 900)");
                    s.execute("CHECKPOINT");
                    s.execute("SHUTDOWN IMMEDIATELY");
                }
            }
            set.restoreInPlace(point.seq(), ProgressListener.NONE);
            try (H2OnSet db = H2OnSet.mount(set, "m0", "shop");
                 Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*), MAX(id) FROM item")) {
                rs.next();
                assertEquals(500, rs.getInt(1));
                assertEquals(500, rs.getInt(2));
            }
        }
    }

    @Test
    void connectsValidatesAndRefusesLogPositionsWithWhatToUseInstead() throws Exception {
        String url = "jdbc:h2:" + tmp.resolve("plain") + ";TRACE_LEVEL_FILE=0";
        try (DatabaseAdapter adapter = Adapters.open(attachment("plain", url, List.of()))) {
            assertTrue(adapter.checkConnection().startsWith("H2 2."), adapter.checkConnection());
            adapter.awaitAcceptingConnections(Duration.ofSeconds(5));
            adapter.validate("SELECT 1");
            RewindException zero = assertThrows(RewindException.class, () -> adapter.validate("SELECT 0"));
            assertTrue(zero.getMessage().contains("SELECT 0"), zero.getMessage());
            assertThrows(RewindException.class, () -> adapter.validate("SELECT * FROM no_such_table"));

            assertTrue(adapter.sample("plain", () -> 7).isEmpty());
            assertTrue(adapter.locate(null).isEmpty());
            RewindException parse = assertThrows(RewindException.class, () -> adapter.parsePosition("0/3A0000F8"));
            assertTrue(parse.getMessage().contains("--to-bookmark"), parse.getMessage());
            RewindException find = assertThrows(RewindException.class, () -> adapter.find(new StatementQuery("DROP TABLE", null, null)));
            assertTrue(find.getMessage().contains("--to-time"), find.getMessage());
        }
    }

    @Test
    void aDatabaseThatIsNotThereIsReportedOnOneLine() {
        String url = "jdbc:h2:" + tmp.resolve("missing") + ";IFEXISTS=TRUE";
        try (DatabaseAdapter adapter = Adapters.open(attachment("missing", url, List.of()))) {
            RewindException e = assertThrows(RewindException.class, adapter::checkConnection);
            assertTrue(!e.getMessage().contains("\n") && e.getMessage().contains("missing"), e.getMessage());
            RewindException wait = assertThrows(RewindException.class, () -> adapter.awaitAcceptingConnections(Duration.ofMillis(300)));
            assertTrue(wait.getMessage().contains("did not accept connections"), wait.getMessage());
        }
    }
}
