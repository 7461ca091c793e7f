package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.testfixtures.postgres.PostgresServer;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind restore --coordinated} against a real PostgreSQL whose stop and start commands
 * are {@code pg_ctl stop} and {@code pg_ctl start} (its files are not on the set: this checks
 * the sequencing and the failure rules, not the database's content). Each failure leaves the
 * set's image as it was (the members' primaries are hashed before and after) or, for a failed
 * validation, names the undo seq, which brings the image back.
 */
class CoordinatedRestorePostgresIT {
    @TempDir
    Path tmp;
    CliHarness cli;
    PostgresServer pg;
    String stopCmd;
    String startCmd;

    @BeforeEach
    void setUp() throws Exception {
        pg = PostgresServer.start();
        cli = new CliHarness(tmp);
        cli.createShop();
        write(1, 2);
        boolean root = "0".equals(Tools.run(Duration.ofSeconds(10), "id", "-u").out().strip());
        String as = root ? "runuser -u postgres -- " : "";
        String pgCtl = as + pg.binDir().resolve("pg_ctl") + " -D " + pg.dataDir() + " -w -t 90";
        stopCmd = pgCtl + " -m fast stop";
        startCmd = pgCtl + " -l " + pg.dataDir().getParent().resolve("server.log") + " start";
    }

    @AfterEach
    void stopServer() {
        if (pg != null) {
            pg.close();
        }
    }

    /** Writes one distinct block per value to the data member, one seq each. */
    private void write(int... values) throws Exception {
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            for (int v : values) {
                byte[] block = new byte[4096];
                block[0] = (byte) v;
                set.device("data").write(v * 4096L, ByteBuffer.wrap(block), true);
            }
        }
    }

    /** The members' primaries (the PV image files), hashed. */
    private String image() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (String pv : new String[] {"d1.img", "d2.img"}) {
            sha.update(Files.readAllBytes(tmp.resolve(pv)));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private void attach(String stop, String validate) {
        cli.ok("db", "attach", "shop", "--jdbc", pg.jdbcUrl(), "--user", PostgresServer.SUPERUSER, "--stop-cmd", stop, "--start-cmd", startCmd,
                "--validate", validate);
    }

    private void answers() {
        assertEquals("1", pg.psql("select 1").out().strip(), "PostgreSQL is up");
    }

    @Test
    void aCoordinatedRestoreStopsRestoresStartsAndValidatesReportingEachStep() throws Exception {
        attach(stopCmd, "select count(*) > 0 from pg_class");
        cli.ok("bookmark", "shop", "consistent-at-2", "--consistent");
        String atTwo = image();
        write(3, 4);
        JsonNode r = cli.ok("restore", "shop", "--to-seq", "2", "--coordinated", "--json").json();
        assertTrue(r.get("ok").asBoolean(), r.toString());
        assertEquals(atTwo, image(), "the set is back at seq 2");
        JsonNode steps = r.get("steps");
        assertEquals("stop", steps.get(0).get("name").asText());
        assertEquals("restore", steps.get(1).get("name").asText());
        assertEquals("start", steps.get(2).get("name").asText());
        assertEquals("accepting connections", steps.get(3).get("name").asText());
        assertTrue(steps.get(4).get("name").asText().startsWith("validate "), steps.toString());
        for (JsonNode s : steps) {
            assertTrue(s.get("ok").asBoolean() && s.has("tookMillis"), s.toString());
        }
        assertEquals(4, r.get("undoSeq").asLong());
        answers();
        CliHarness.Run text = cli.ok("restore", "shop", "--to-seq", "4", "--coordinated");
        assertTrue(text.out().contains("ok") && text.out().contains("stop") && text.out().contains("the database is up"), text.out());
    }

    @Test
    void aFailingStopCommandRestoresNothing() throws Exception {
        attach("echo cannot stop the database >&2; exit 3", "select 1");
        write(3);
        String before = image();
        CliHarness.Run r = cli.refused("stop command exited with 3", "restore", "shop", "--to-seq", "1", "--coordinated");
        assertTrue(r.err().contains("nothing was restored, the volumes are unchanged"), r.err());
        assertTrue(r.out().contains("FAILED") && r.out().contains("stop"), "the step is printed as it finishes: " + r.out());
        assertEquals(before, image());
        answers();
    }

    @Test
    void aFailingValidationNamesTheUndoSeqAndTheNearestConsistentBookmark() throws Exception {
        attach(stopCmd, "select count(*) from no_such_table");
        cli.ok("bookmark", "shop", "consistent-at-2", "--consistent");
        write(3, 4);
        String before = image();
        CliHarness.Run r = cli.raw("--data", cli.data.toString(), "restore", "shop", "--to-seq", "3", "--coordinated");
        assertEquals(Main.EXIT_REFUSED, r.exit(), r.out() + r.err());
        String line = r.err().strip();
        assertTrue(line.contains("validation failed") && line.contains("no_such_table"), line);
        assertTrue(line.contains("rewind restore shop --to-seq 4"), "names the undo seq: " + line);
        assertTrue(line.contains("consistent-at-2 (seq 2)"), "names the nearest earlier consistent bookmark: " + line);
        answers();
        assertNotEquals(before, image(), "the restore itself happened");
        cli.ok("restore", "shop", "--to-seq", "4");
        assertEquals(before, image(), "the undo seq brings the image back");
    }
}
