package dev.rewind.dbadapters.volumefs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.h2.store.fs.rec.FilePathRec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Embedded H2 with its file on a member of a real captured set. */
class H2OnSetTest {
    private static final long MEMBER_BYTES = 32L << 20;

    // Each test names its set differently: mounts are global to the JVM, so a test that
    // fails with its database open cannot make the next one fail too.

    @TempDir
    Path tmp;

    @Test
    void databaseSurvivesCloseAndReopen() throws Exception {
        try (TestSet t = TestSet.create(tmp, "survive", MEMBER_BYTES, MEMBER_BYTES)) {
            try (CapturedSet set = t.open(); H2OnSet db = H2OnSet.mount(set, "m0", "bank")) {
                try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement()) {
                    createAccounts(s, 100);
                }
            }
            try (CapturedSet set = t.open(); H2OnSet db = H2OnSet.mount(set, "m0", "bank")) {
                assertEquals(List.of(100L, 100_000L), countAndTotal(db));
            }
        }
    }

    @Test
    void restoreToSeqBeforeDeleteBringsRowsBack() throws Exception {
        try (TestSet t = TestSet.create(tmp, "restore", MEMBER_BYTES, MEMBER_BYTES); CapturedSet set = t.open()) {
            long seqBefore;
            try (H2OnSet db = H2OnSet.mount(set, "m0", "bank")) {
                try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement()) {
                    c.setAutoCommit(false);
                    createAccounts(s, 100);
                    c.commit();
                    s.execute("CHECKPOINT");
                    seqBefore = set.lastSeq();
                    s.execute("DELETE FROM account");
                    c.commit();
                    s.execute("CHECKPOINT");
                    assertEquals(List.of(0L, 0L), countAndTotal(s));
                    s.execute("SHUTDOWN IMMEDIATELY");
                }
            }
            assertTrue(set.lastSeq() > seqBefore, "the delete was written");

            set.restoreInPlace(seqBefore, ProgressListener.NONE);

            try (H2OnSet db = H2OnSet.mount(set, "m0", "bank")) {
                assertEquals(List.of(100L, 100_000L), countAndTotal(db));
            }
        }
    }

    @Test
    void h2WritesGoThroughTheDeviceIntoTheJournal() throws Exception {
        try (TestSet t = TestSet.create(tmp, "journal", MEMBER_BYTES, MEMBER_BYTES); CapturedSet set = t.open();
             H2OnSet db = H2OnSet.mount(set, "m0", "bank")) {
            assertEquals("jdbc:h2:rewind:journal-m0/bank;FILE_LOCK=NO;TRACE_LEVEL_FILE=0;WRITE_DELAY=0", db.jdbcUrl());
            try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement()) {
                createAccounts(s, 10);
                s.execute("CHECKPOINT");
                long afterCreate = set.lastSeq();
                s.execute("INSERT INTO account SELECT X, 5 FROM SYSTEM_RANGE(1000, 1999)");
                s.execute("CHECKPOINT");
                assertTrue(set.lastSeq() > afterCreate, "inserts reached the journal: seq " + afterCreate + " -> " + set.lastSeq());
            }
            assertEquals(Optional.of("bank.mv.db"), DeviceFileHeader.readFrom(set.device("m0")).map(DeviceFileHeader::fileName));
            ByteBuffer start = ByteBuffer.allocate(3);
            set.device("m0").read(DeviceFileHeader.CONTENT_OFFSET, start);
            assertEquals("H:2", new String(start.array(), StandardCharsets.US_ASCII), "H2's store header is on the device");
            assertEquals(Optional.empty(), DeviceFileHeader.readFrom(set.device("m1")), "m1 was left alone");
        }
    }

    @Test
    void corruptHeaderIsRefusedWithAClearMessage() throws Exception {
        try (TestSet t = TestSet.create(tmp, "corrupt", MEMBER_BYTES, MEMBER_BYTES); CapturedSet set = t.open()) {
            try (H2OnSet db = H2OnSet.mount(set, "m0", "bank")) {
                try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement()) {
                    createAccounts(s, 10);
                }
                set.device("m0").write(30, ByteBuffer.wrap(new byte[] {'X'}), true);

                SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(db.jdbcUrl()));
                assertTrue(fullMessage(e).contains("device m0 has a damaged or foreign file header in block 0: header CRC32C mismatch"),
                        fullMessage(e));
            }
            IOException e = assertThrows(IOException.class, () -> H2OnSet.mount(set, "m0", "bank"));
            assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
        }
    }

    @Test
    void urlSettingsKeepH2ToTheDatabaseFile() throws Exception {
        Set<String> touched = ConcurrentHashMap.newKeySet();
        FilePathRec.register();
        FilePathRec.setRecorder((op, fileName, data, x) -> touched.add(fileName));
        try (TestSet t = TestSet.create(tmp, "settings", MEMBER_BYTES, MEMBER_BYTES); CapturedSet set = t.open();
             H2OnSet db = H2OnSet.mount(set, "m0", "bank")) {
            String recordedUrl = "jdbc:h2:rec:" + db.databasePath() + H2OnSet.URL_SETTINGS;
            try (Connection c = DriverManager.getConnection(recordedUrl); Statement s = c.createStatement()) {
                createAccounts(s, 1000);
                assertThrows(SQLException.class, () -> s.execute("SELECT * FROM account WHERE id = 'not a number'"));
                s.execute("DELETE FROM account WHERE MOD(id, 2) = 0");
            }
            try (Connection c = DriverManager.getConnection(recordedUrl); Statement s = c.createStatement()) {
                assertEquals(List.of(500L, 500_000L), countAndTotal(s), "closing (with compaction) and reopening worked");
            }
        } finally {
            FilePathRec.setRecorder(null);
        }
        assertEquals(Set.of("rec:rewind:settings-m0/bank.mv.db"), touched, "no trace, lock or temp file");
    }

    private static void createAccounts(Statement s, int count) throws SQLException {
        s.execute("CREATE TABLE account(id INT PRIMARY KEY, balance BIGINT NOT NULL)");
        s.execute("INSERT INTO account SELECT X, 1000 FROM SYSTEM_RANGE(1, " + count + ")");
    }

    private static List<Long> countAndTotal(H2OnSet db) throws SQLException {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement()) {
            return countAndTotal(s);
        }
    }

    private static List<Long> countAndTotal(Statement s) throws SQLException {
        try (ResultSet r = s.executeQuery("SELECT COUNT(*), COALESCE(SUM(balance), 0) FROM account")) {
            r.next();
            return List.of(r.getLong(1), r.getLong(2));
        }
    }

    private static String fullMessage(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t).append(" / ");
        }
        return b.toString();
    }
}
