package dev.rewind.dbadapters.h2;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.TestSet;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.h2.store.fs.rec.FilePathRec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchExperimentTest {
    @TempDir
    Path tmp;

    @Test
    void experiment() throws Exception {
        FilePathRec.register();
        FilePathRec.setRecorder((op, fileName, data, x) -> {
            if (op != 8 && op != 9) System.err.println("REC op=" + op + " " + fileName + " x=" + x);
        });
        String[] settings = {";FILE_LOCK=FILE;TRACE_LEVEL_FILE=0", ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0;SHUTDOWN COMPACT", ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0;SHUTDOWN DEFRAG", ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0;SHUTDOWN IMMEDIATELY", ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0"};
        String[] unused = {"", ";FILE_LOCK=NO", ";TRACE_LEVEL_FILE=0", ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0",
                ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0;TRACE_LEVEL_SYSTEM_OUT=0", ";FILE_LOCK=FS;TRACE_LEVEL_FILE=0",
                ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0;MAX_COMPACT_TIME=0", ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0;DEFRAG_ALWAYS=TRUE"};
        try (TestSet t = TestSet.create(tmp, "exp", 32L << 20); CapturedSet set = t.open()) {
            for (String s : settings) {
                System.err.println("==== " + s);
                VolumeFileSystem.mount("exp-m0", set.device("m0"));
                try {
                    String shutdown = s.contains("SHUTDOWN") ? s.substring(s.indexOf("SHUTDOWN")) : null;
                    if (shutdown != null) s = s.substring(0, s.indexOf(";SHUTDOWN"));
                    String url = "jdbc:h2:rec:rewind:exp-m0/bank" + s;
                    try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
                        st.execute("CREATE TABLE IF NOT EXISTS a(id INT PRIMARY KEY, v VARCHAR)");
                        st.execute("DELETE FROM a");
                        st.execute("INSERT INTO a SELECT X, REPEAT('x', 1000) FROM SYSTEM_RANGE(1, 3000)");
                        st.execute("DELETE FROM a WHERE MOD(id, 2) = 0");
                        if (shutdown != null) { System.err.println("running " + shutdown); st.execute(shutdown); }
                    } catch (Exception e) {
                        dump("FAILED", e);
                    }
                    try (Connection c = DriverManager.getConnection("jdbc:h2:rec:rewind:exp-m0/bank" + s); Statement st = c.createStatement()) {
                        try (java.sql.ResultSet r = st.executeQuery("SELECT COUNT(*) FROM a")) { r.next(); System.err.println("count " + r.getLong(1)); }
                    } catch (Exception e) {
                        dump("FAILED reopen", e);
                    }
                    System.err.println("size " + org.h2.store.fs.FilePath.get("rewind:exp-m0/bank.mv.db").size() + " seq " + set.lastSeq());
                } finally {
                    VolumeFileSystem.unmount("exp-m0");
                }
            }
        }
    }

    static void dump(String what, Throwable e) {
        System.err.println(what);
        for (Throwable t = e; t != null; t = t.getCause()) {
            System.err.println("  CAUSE " + t);
            StackTraceElement[] st = t.getStackTrace();
            for (int i = 0; i < Math.min(6, st.length); i++) System.err.println("     at " + st[i]);
        }
    }
}
