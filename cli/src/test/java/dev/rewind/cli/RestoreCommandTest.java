package dev.rewind.cli;

import dev.rewind.cli.CliHarness.Run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind restore --dry-run} and {@code --resume}, and what {@code status} and {@code log}
 * say about a restore in place that was cut short.
 */
class RestoreCommandTest {
    @TempDir
    Path tmp;
    Path data;
    String d;

    Run rewind(String... args) {
        return CliHarness.raw(args);
    }

    Run ok(String... args) {
        return CliHarness.rawOk(args);
    }

    /**
     * Every file under tmp by path with its exact bytes: the PVs, the secondary (journal, dirty
     * region log, replicas, label, lock), the config. The H2 catalog file is stood in for by what
     * it holds (the set's log with its bookmarks and restores, as JSON): H2 rewrites its own
     * store header whenever any command opens it.
     */
    TreeMap<String, byte[]> files() throws Exception {
        TreeMap<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(tmp)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                if (!p.startsWith(data.resolve("catalog"))) {
                    files.put(tmp.relativize(p).toString(), Files.readAllBytes(p));
                }
            }
        }
        files.put("(catalog: log --json)", ok("--data", d, "log", "shop", "--json", "--limit", "100000").out()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return files;
    }

    void assertSameFiles(TreeMap<String, byte[]> before, TreeMap<String, byte[]> after, String what) {
        assertEquals(before.keySet(), after.keySet(), what + " created or removed files");
        for (String f : before.keySet()) {
            assertArrayEquals(before.get(f), after.get(f), what + " changed " + f);
        }
    }

    @BeforeEach
    void createShop() {
        data = tmp.resolve("data");
        d = data.toString();
        ok("init", "--data", d);
        ok("--data", d, "pv", "create", "d1", "--path", tmp.resolve("d1.img").toString(), "--size", "8M");
        ok("--data", d, "vg", "create", "vg0", "--pv", "d1", "--extent-size", "1M");
        ok("--data", d, "lv", "create", "data", "--vg", "vg0", "--size", "4M");
        ok("--data", d, "lv", "create", "log", "--vg", "vg0", "--size", "1M");
        ok("--data", d, "set", "create", "shop", "--member", "vg0/data", "--member", "vg0/log");
    }

    /** seq 1..2 write data, seq 3..5 change data and log after it. */
    void writeHistory() throws Exception {
        try (DataDir dir = new DataDir(data); CapturedSet set = dir.openSet("shop")) {
            set.device("data").write(0, ByteBuffer.wrap(filled(8192, 1)), false);
            set.device("data").write(1 << 20, ByteBuffer.wrap(filled(4096, 2)), false);
            set.device("data").write(4096, ByteBuffer.wrap(filled(8192, 3)), false);
            set.device("log").write(512, ByteBuffer.wrap(filled(1000, 4)), false);
            set.device("data").writeZeroes(2 << 20, 65536, true);
        }
    }

    static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void everyKindOfTargetSaysHowItsSeqWasFoundInTextAndJson() throws Exception {
        writeHistory();
        ok("--data", d, "bookmark", "shop", "before-upgrade", "--seq", "2");
        String time = ok("--data", d, "log", "shop", "--json", "--limit", "100").json().get("entries").get(2).get("time").asText();
        String[][] targets = {
            {"--to-seq", "2", "seq"},
            {"--to-bookmark", "before-upgrade", "bookmark before-upgrade"},
            {"--to-time", time, "time " + dev.rewind.volumeset.Times.format(dev.rewind.volumeset.Times.parse(time)) + ": the last write at or before it"},
        };
        for (String[] t : targets) {
            for (String mode : new String[] {"--dry-run", "--clone-to"}) {
                String[] args = mode.equals("--dry-run")
                        ? new String[] {"--data", d, "restore", "shop", t[0], t[1], "--dry-run"}
                        : new String[] {"--data", d, "restore", "shop", t[0], t[1], "--clone-to", tmp.resolve("clone" + t[0] + mode).toString()};
                String[] json = Stream.concat(Arrays.stream(args), Stream.of("--json")).toArray(String[]::new);
                if (mode.equals("--clone-to")) {
                    json[json.length - 2] = tmp.resolve("json-clone" + t[0]).toString();
                }
                JsonNode doc = ok(json).json();
                assertEquals(t[2], doc.get("targetFoundBy").asText(), String.join(" ", json));
                String human = ok(args).out();
                assertTrue(human.contains("target: seq " + doc.get("targetSeq").asLong() + ", found by " + t[2]),
                        String.join(" ", args) + ": " + human);
            }
        }
    }

    @Test
    void dryRunPrintsThePlanAndChangesNothing() throws Exception {
        writeHistory();
        TreeMap<String, byte[]> before = files();
        Run human = ok("--data", d, "restore", "shop", "--to-seq", "2", "--dry-run");
        assertSameFiles(before, files(), "restore --dry-run");
        assertTrue(human.out().contains("dry run, nothing changed"), human.out());
        assertTrue(human.out().contains("undo afterwards with: rewind restore shop --to-seq 5"), human.out());
        assertTrue(human.out().contains("offset           4096        8192 bytes"), human.out());

        JsonNode plan = ok("--data", d, "restore", "shop", "--to-seq", "2", "--dry-run", "--json").json();
        assertSameFiles(before, files(), "restore --dry-run --json");
        assertTrue(plan.get("dryRun").asBoolean());
        assertEquals("in-place", plan.get("mode").asText());
        assertEquals(2, plan.get("targetSeq").asLong());
        assertEquals(5, plan.get("headSeq").asLong());
        assertEquals(5, plan.get("undoSeq").asLong());
        // data: [4096, 12288) and [2 MiB, 2 MiB + 64 KiB); log: [512, 1512)
        assertEquals(8192 + 65536 + 1000, plan.get("bytes").asLong());
        assertEquals(3, plan.get("ranges").asLong());
        JsonNode dataMember = plan.get("members").get(0);
        assertEquals("data", dataMember.get("member").asText());
        assertEquals(4096, dataMember.get("ranges").get(0).get("offsetBytes").asLong());
        assertEquals(8192, dataMember.get("ranges").get(0).get("lengthBytes").asLong());
        assertEquals("log", plan.get("members").get(1).get("member").asText());
        assertEquals(512, plan.get("members").get(1).get("ranges").get(0).get("offsetBytes").asLong());

        // the real restore then does exactly what the plan said
        JsonNode done = ok("--data", d, "restore", "shop", "--to-seq", "2", "--json").json();
        assertEquals(plan.get("bytes").asLong(), done.get("bytesWritten").asLong());
        assertEquals(plan.get("undoSeq").asLong(), done.get("undoSeq").asLong());

        // to seq 0 (the case that surprised a DBA): every changed byte of both members is listed
        JsonNode toZero = ok("--data", d, "restore", "shop", "--to-seq", "0", "--dry-run", "--json").json();
        assertTrue(toZero.get("bytes").asLong() > 0 && toZero.get("members").get(1).get("bytes").asLong() == 1000, toZero.toString());
    }

    @Test
    void dryRunOfACloneWritesNoFile() throws Exception {
        writeHistory();
        Path clone = tmp.resolve("clone");
        TreeMap<String, byte[]> before = files();
        JsonNode plan = ok("--data", d, "restore", "shop", "--to-seq", "3", "--clone-to", clone.toString(), "--dry-run", "--json").json();
        assertSameFiles(before, files(), "restore --clone-to --dry-run");
        assertFalse(Files.exists(clone), "no clone directory is created");
        assertEquals("clone", plan.get("mode").asText());
        assertEquals(clone.resolve("data.img").toString(), plan.get("members").get(0).get("file").asText());
        assertEquals(4 << 20, plan.get("members").get(0).get("sizeBytes").asLong());
        assertTrue(plan.get("undoSeq").isNull(), "a clone needs no undo");
        Run human = ok("--data", d, "restore", "shop", "--to-seq", "3", "--clone-to", clone.toString(), "--dry-run");
        assertTrue(human.out().contains("clone set shop as of seq 3") && human.out().contains("data.img"), human.out());
        assertSameFiles(before, files(), "restore --clone-to --dry-run (human)");
    }

    @Test
    void dryRunRefusesWhatTheRestoreWouldRefuse() throws Exception {
        writeHistory();
        TreeMap<String, byte[]> before = files();
        Run r = rewind("--data", d, "restore", "shop", "--to-seq", "99", "--dry-run");
        assertEquals(Main.EXIT_REFUSED, r.exit());
        assertTrue(r.err().contains("beyond the newest write"), r.err());
        assertSameFiles(before, files(), "a refused dry run");
    }

    @Test
    void interruptedRestoreIsReportedAndResumeFinishesIt() throws Exception {
        writeHistory();
        // a restore cut short after its first write (as a kill would leave it)
        try (DataDir dir = new DataDir(data); CapturedSet set = dir.openSet("shop")) {
            assertThrows(IllegalStateException.class, () -> set.restoreInPlace(1, bytes -> {
                throw new IllegalStateException("cut short");
            }));
        }
        JsonNode status = ok("--data", d, "status", "shop", "--json").json().get("sets").get(0);
        JsonNode ir = status.get("interruptedRestore");
        assertEquals(1, ir.get("targetSeq").asLong(), status.toString());
        assertEquals(5, ir.get("headSeqAtStart").asLong());
        assertEquals(6, ir.get("firstRestoreSeq").asLong());
        assertEquals(6, ir.get("lastRestoreSeq").asLong());
        assertEquals(1, ir.get("restoreSeqsWritten").asLong());
        assertEquals("rewind restore --resume shop", ir.get("resumeCommand").asText());
        String human = ok("--data", d, "status", "shop").out();
        assertTrue(human.contains("RESTORE INTERRUPTED") && human.contains("restore in place to seq 1")
                && human.contains("rewind restore --resume shop"), human);

        JsonNode log = ok("--data", d, "log", "shop", "--json").json();
        assertEquals(1, log.get("interruptedRestore").get("targetSeq").asLong());
        String logHuman = ok("--data", d, "log", "shop").out();
        assertTrue(logHuman.contains("restore to seq 1 INTERRUPTED after seqs 6..6"), logHuman);

        // writes are refused with one line saying what to run
        try (DataDir dir = new DataDir(data); CapturedSet set = dir.openSet("shop")) {
            Exception e = assertThrows(RuntimeException.class, () -> set.device("data").write(0, ByteBuffer.allocate(10), false));
            assertTrue(e.getMessage().contains("rewind restore --resume shop") && !e.getMessage().contains("\n"), e.getMessage());
        }

        JsonNode resumed = ok("--data", d, "restore", "--resume", "shop", "--json").json();
        assertTrue(resumed.get("resumed").asBoolean());
        assertEquals(1, resumed.get("targetSeq").asLong());
        assertEquals(6, resumed.get("firstSeq").asLong());
        assertEquals(5, resumed.get("undoSeq").asLong(), "undo brings back the set before the first, interrupted attempt");
        assertTrue(ok("--data", d, "status", "shop", "--json").json().get("sets").get(0).get("interruptedRestore").isNull());
        try (DataDir dir = new DataDir(data); CapturedSet set = dir.openSet("shop")) {
            ByteBuffer got = ByteBuffer.allocate(16384);
            set.device("data").read(0, got);
            byte[] expected = new byte[16384];
            System.arraycopy(filled(8192, 1), 0, expected, 0, 8192);
            assertArrayEquals(expected, got.array(), "the set equals seq 1");
        }
        Run again = rewind("--data", d, "restore", "--resume", "shop");
        assertEquals(Main.EXIT_REFUSED, again.exit());
        assertTrue(again.err().contains("has no interrupted restore to resume"), again.err());
    }

    @Test
    void anExplicitRestoreElsewhereSupersedesTheInterruptedOne() throws Exception {
        writeHistory();
        try (DataDir dir = new DataDir(data); CapturedSet set = dir.openSet("shop")) {
            assertThrows(IllegalStateException.class, () -> set.restoreInPlace(1, bytes -> {
                throw new IllegalStateException("cut short");
            }));
        }
        JsonNode plan = ok("--data", d, "restore", "shop", "--to-seq", "3", "--dry-run", "--json").json();
        assertEquals(1, plan.get("supersedesRestoreTo").asLong());
        ok("--data", d, "restore", "shop", "--to-seq", "3");
        assertTrue(ok("--data", d, "status", "shop", "--json").json().get("sets").get(0).get("interruptedRestore").isNull());
        try (DataDir dir = new DataDir(data); CapturedSet set = dir.openSet("shop")) {
            ByteBuffer got = ByteBuffer.allocate(4096);
            set.device("data").read(4096, got);
            assertArrayEquals(filled(4096, 3), got.array(), "the set equals seq 3");
        }
    }
}
