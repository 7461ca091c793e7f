package dev.rewind.dbadapters.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.RewindException;
import java.sql.Connection;
import java.sql.Statement;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Jdbc#check}: what holds, what fails and with which detail, on a real (in-memory) H2 database. */
class JdbcCheckTest {
    private JdbcDataSource source;
    private Connection keepAlive;
    private Jdbc jdbc;

    @BeforeEach
    void database() throws Exception {
        source = new JdbcDataSource();
        source.setURL("jdbc:h2:mem:check" + System.identityHashCode(this) + ";DB_CLOSE_DELAY=0");
        keepAlive = source.getConnection();
        try (Statement s = keepAlive.createStatement()) {
            s.execute("CREATE TABLE t(id INT)");
            s.execute("INSERT INTO t VALUES (1), (2)");
        }
        jdbc = new Jdbc(source, "H2 check");
    }

    @AfterEach
    void close() throws Exception {
        keepAlive.close();
    }

    @Test
    void trueOrNonZeroHolds() {
        assertEquals(new CheckResult(true, "returned true"), jdbc.check("SELECT count(*) > 0 FROM t"));
        assertEquals(new CheckResult(true, "returned 2"), jdbc.check("SELECT count(*) FROM t"));
    }

    @Test
    void falseZeroNullOrNoRowFails() {
        assertEquals(new CheckResult(false, "returned false"), jdbc.check("SELECT count(*) > 5 FROM t"));
        assertEquals(new CheckResult(false, "returned 0"), jdbc.check("SELECT count(*) FROM t WHERE id > 5"));
        assertEquals(new CheckResult(false, "returned null"), jdbc.check("SELECT max(id) FROM t WHERE id > 5"));
        assertEquals(new CheckResult(false, "returned no rows"), jdbc.check("SELECT id FROM t WHERE id > 5"));
    }

    @Test
    void aFailingQueryFailsTheCheckWithTheDatabasesError() {
        CheckResult r = jdbc.check("SELECT count(*) FROM gone");
        assertFalse(r.holds());
        assertTrue(r.detail().contains("GONE") && r.detail().contains("not found"), r.detail());
        assertFalse(r.detail().contains("\n"), "one line: " + r.detail());
    }

    @Test
    void anUnreachableDatabaseIsAnErrorNotAFailedCheck() {
        JdbcDataSource nowhere = new JdbcDataSource();
        nowhere.setURL("jdbc:h2:tcp://127.0.0.1:1/nowhere");
        RewindException e = assertThrows(RewindException.class, () -> new Jdbc(nowhere, "H2 nowhere").check("SELECT 1"));
        assertTrue(e.getMessage().contains("H2 nowhere"), e.getMessage());
    }
}
