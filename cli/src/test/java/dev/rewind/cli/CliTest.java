package dev.rewind.cli;

import dev.rewind.cli.CliHarness.Run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.testfixtures.clock.MovingClock;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rewind command end to end, in process: the contract external tests rely on. */
class CliTest {
    @TempDir
    Path tmp;
    Path data;

    CliHarness harness;

    Run rewind(String... args) {
        return CliHarness.raw(harness.clock, args);
    }

    Run ok(String... args) {
        Run r = rewind(args);
        assertEquals(0, r.exit(), () -> String.join(" ", args) + " failed: " + r.err());
        return r;
    }

    /** A refused command: non-zero exit, one line saying why, and nothing changed under {@code tmp}. */
    Run refused(String expectedFragment, String... args) throws Exception {
        return harness.rawFails(Main.EXIT_REFUSED, expectedFragment, args);
    }

    String snapshot() throws Exception {
        return harness.snapshot();
    }

    @BeforeEach
    void setUp() {
        data = tmp.resolve("data");
        harness = new CliHarness(tmp);
    }

    void createShop() {
        ok("init", "--data", data.toString());
        ok("--data", data.toString(), "pv", "create", "d1", "--path", tmp.resolve("d1.img").toString(), "--size", "16M");
        ok("--data", data.toString(), "pv", "create", "d2", "--path", tmp.resolve("d2.img").toString(), "--size", "8M");
        ok("--data", data.toString(), "vg", "create", "vg0", "--pv", "d1,d2", "--extent-size", "1M");
        ok("--data", data.toString(), "lv", "create", "data", "--vg", "vg0", "--size", "18M");
        ok("--data", data.toString(), "lv", "create", "log", "--vg", "vg0", "--size", "2M");
        ok("--data", data.toString(), "set", "create", "shop", "--member", "vg0/data", "--member", "vg0/log");
    }

    /**
     * Each element of a command's description or footer is printed as its own paragraph, so
     * one that stops mid-sentence breaks {@code --help} in the middle of a line; and an example
     * longer than the help's width is wrapped mid-command, so it no longer pastes.
     */
    @Test
    void everyHelpParagraphEndsItsSentenceAndEveryExampleFitsTheWidth() {
        java.util.List<String> broken = new java.util.ArrayList<>();
        java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(Main.commandLine()));
        while (!todo.isEmpty()) {
            picocli.CommandLine c = todo.pop();
            todo.addAll(c.getSubcommands().values());
            for (String paragraph : c.getCommandSpec().usageMessage().description()) {
                String p = paragraph.strip();
                if (!p.isEmpty() && !p.matches("(?s).*[.:)!?]$") && !p.startsWith("Start here")) {
                    broken.add(c.getCommandSpec().qualifiedName() + ": ..." + p.substring(Math.max(0, p.length() - 40)));
                }
            }
            int width = c.getCommandSpec().usageMessage().width();
            for (String line : c.getCommandSpec().usageMessage().footer()) {
                boolean example = line.startsWith("  ");
                if (example ? line.length() > width : !line.isBlank() && !line.strip().matches("(?s).*[.:)!?]$")) {
                    broken.add(c.getCommandSpec().qualifiedName() + " footer: " + line);
                }
            }
        }
        assertTrue(broken.isEmpty(), "help paragraphs that stop mid-sentence, or examples wider than the help: " + broken);
    }

    @Test
    void dataOptionWorksBeforeAndAfterTheSubcommand() throws Exception {
        createShop();
        JsonNode before = ok("--data", data.toString(), "status", "--json").json();
        JsonNode after = ok("status", "--json", "--data", data.toString()).json();
        assertEquals(before.get("sets").get(0).get("name"), after.get("sets").get(0).get("name"));
        assertEquals(0, after.get("sets").get(0).get("lastSeq").asLong());
        assertEquals(0, after.get("sets").get(0).get("flushedSeq").asLong());
    }

    @Test
    void statusLogBookmarkAndRestoreWorkOnAWrittenSet() throws Exception {
        createShop();
        byte[] first = new byte[10_000];
        Arrays.fill(first, (byte) 1);
        byte[] second = new byte[10_000];
        Arrays.fill(second, (byte) 2);
        try (DataDir d = new DataDir(data); CapturedSet set = d.openSet("shop")) {
            BlockDevice dev = set.device("data");
            dev.write(3 << 20, ByteBuffer.wrap(first), false);
            dev.write((1 << 20) - 100, ByteBuffer.wrap(first), true);
        }
        ok("--data", data.toString(), "bookmark", "shop", "good");
        try (DataDir d = new DataDir(data); CapturedSet set = d.openSet("shop")) {
            set.device("data").write(3 << 20, ByteBuffer.wrap(second), false);
            set.device("log").writeZeroes(0, 4096, false);
            set.device("data").trim((1 << 20) - 100, 200, true);
        }
        JsonNode status = ok("--data", data.toString(), "status", "shop", "--json").json().get("sets").get(0);
        assertEquals(5, status.get("lastSeq").asLong());
        assertEquals(5, status.get("flushedSeq").asLong());

        JsonNode log = ok("--data", data.toString(), "log", "shop", "--json", "--limit", "2").json();
        assertEquals(2, log.get("entries").size());
        assertEquals(5, log.get("entries").get(0).get("seq").asLong());
        assertEquals("trim", log.get("entries").get(0).get("type").asText());
        assertEquals(4, log.get("nextBefore").asLong());
        assertEquals("good", log.get("bookmarks").get(0).get("name").asText());
        JsonNode page2 = ok("--data", data.toString(), "log", "shop", "--json", "--before", "4").json();
        assertEquals(3, page2.get("entries").get(0).get("seq").asLong());
        assertEquals(3, page2.get("entries").size());

        ok("--data", data.toString(), "restore", "shop", "--to-bookmark", "good", "--clone-to", tmp.resolve("clone").toString());
        byte[] clone = Files.readAllBytes(tmp.resolve("clone/data.img"));
        assertArrayEquals(first, Arrays.copyOfRange(clone, 3 << 20, (3 << 20) + first.length));

        JsonNode restore = ok("--data", data.toString(), "restore", "shop", "--to-bookmark", "good", "--json").json();
        assertEquals(2, restore.get("targetSeq").asLong());
        assertEquals(5, restore.get("undoSeq").asLong());
        try (DataDir d = new DataDir(data); CapturedSet set = d.openSet("shop")) {
            ByteBuffer got = ByteBuffer.allocate(first.length);
            set.device("data").read(3 << 20, got);
            assertArrayEquals(first, got.array());
        }
        ok("--data", data.toString(), "restore", "shop", "--to-seq", String.valueOf(restore.get("undoSeq").asLong()));
        try (DataDir d = new DataDir(data); CapturedSet set = d.openSet("shop")) {
            ByteBuffer got = ByteBuffer.allocate(second.length);
            set.device("data").read(3 << 20, got);
            assertArrayEquals(second, got.array(), "restoring to the seq before a restore undoes it");
        }
        assertEquals(0, rewind("--data", data.toString(), "verify", "shop").exit());
        String human = ok("--data", data.toString(), "log", "shop").out();
        assertTrue(human.contains("restore to seq 2"), human);
    }

    @Test
    void restoreToTimeTakesTheLastWriteAtOrBeforeIt() throws Exception {
        createShop();
        MovingClock clock = MovingClock.at(java.time.Instant.now());
        harness.clock = clock;
        java.time.Instant between;
        try (DataDir d = harness.dataDir(); CapturedSet set = d.openSet("shop")) {
            set.device("data").write(0, ByteBuffer.wrap(new byte[] {1}), true);
            clock.advance(java.time.Duration.ofMillis(20));
            between = clock.instant();
            clock.advance(java.time.Duration.ofMillis(20));
            set.device("data").write(0, ByteBuffer.wrap(new byte[] {2}), true);
        }
        JsonNode r = ok("--data", data.toString(), "restore", "shop", "--to-time", between.toString(), "--json").json();
        assertEquals(1, r.get("targetSeq").asLong());
        harness.rawFails(Main.EXIT_USAGE, "is not an ISO-8601 time", "--data", data.toString(), "restore", "shop", "--to-time", "yesterday");
        refused("no write of set shop at or before", "--data", data.toString(), "restore", "shop", "--to-time", "2001-01-01T00:00:00Z");
    }

    @Test
    void badInputIsRefusedWithOneLineAndChangesNothing() throws Exception {
        refused("no Rewind data dir", "--data", data.toString(), "status");
        createShop();
        String d = data.toString();
        refused("beyond the newest write", "--data", d, "restore", "shop", "--to-seq", "99");
        refused("no set named nope", "--data", d, "restore", "nope", "--to-seq", "0");
        refused("no bookmark named nope", "--data", d, "restore", "shop", "--to-bookmark", "nope");
        refused("already exists", "--data", d, "pv", "create", "d1", "--path", tmp.resolve("other.img").toString(), "--size", "8M");
        refused("too small", "--data", d, "pv", "create", "tiny", "--path", tmp.resolve("tiny.img").toString(), "--size", "1M");
        refused("free", "--data", d, "lv", "create", "huge", "--vg", "vg0", "--size", "1G");
        refused("already exists", "--data", d, "lv", "create", "data", "--vg", "vg0", "--size", "1M");
        refused("already a member of set shop", "--data", d, "set", "create", "shop2", "--member", "vg0/data");
        refused("no LV", "--data", d, "set", "create", "shop2", "--member", "vg0/nope");
        assertEquals(Main.EXIT_USAGE, rewind("--data", d, "lv", "create", "x", "--vg", "vg0", "--size", "lots").exit(), "a bad size is bad usage");
        refused("already initialized", "--data", d, "init");
        try (DataDir dir = new DataDir(data); CapturedSet set = dir.openSet("shop")) {
            refused("in use", "--data", d, "restore", "shop", "--to-seq", "0");
        }
        Run usage = rewind("--data", d, "restore", "shop");
        assertEquals(Main.EXIT_USAGE, usage.exit());
    }

    @Test
    void swappedPvIsRefused() throws Exception {
        createShop();
        Path d1 = tmp.resolve("d1.img");
        Path d2 = tmp.resolve("d2.img");
        Path t = tmp.resolve("t.img");
        Files.move(d1, t);
        Files.move(d2, d1);
        Files.move(t, d2);
        refused("swapped", "--data", data.toString(), "restore", "shop", "--to-seq", "0");
    }

    @Test
    void unreachableCatalogLeavesNoDataDir() throws Exception {
        Run r = refused("cannot reach the catalog", "init", "--data", data.toString(), "--catalog", "jdbc:postgresql://127.0.0.1:1/rewind?password=hunter2");
        assertFalse(r.err().contains("hunter2"), "the password must not be printed");
        assertFalse(Files.exists(data));
    }

    @Test
    void helpAndVersionExplainThemselves() {
        Run help = ok("--help");
        assertTrue(help.out().contains("quickstart") && help.out().contains("restore"), help.out());
        Run restoreHelp = ok("restore", "--help");
        assertTrue(restoreHelp.out().contains("--to-bookmark") && restoreHelp.out().contains("Examples"), restoreHelp.out());
        assertTrue(ok("--version").out().startsWith("rewind "));
    }
}
