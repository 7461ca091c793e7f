package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.sandbox.Sandbox;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.SandboxCheck;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rewind sandbox create|list|drop} without a daemon: what they print, what they refuse, what they leave on disk. */
class SandboxCommandTest {
    @TempDir
    Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cli = new CliHarness(tmp);
        cli.createShop();
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            for (int i = 0; i < 6; i++) {
                set.device("data").write(0, ByteBuffer.wrap(new byte[] {(byte) (i + 1)}), true);
            }
        }
        cli.ok("bookmark", "shop", "third", "--seq", "3");
    }

    @Test
    void aSandboxReadsItsPointAndKeepsItsWritesFromTheSet() throws Exception {
        JsonNode created = cli.ok("sandbox", "create", "shop", "probe", "--at", "bookmark:third", "--json").json();
        assertEquals(3, created.get("seq").asLong());
        assertEquals("shop/data@sandbox:probe", created.get("exports").get(0).asText());
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            Sandbox sandbox = d.sandboxes().open(set, "probe");
            assertEquals(3, read(sandbox, 0), "the sandbox reads the set at seq 3");
            sandbox.member("data").write(0, ByteBuffer.wrap(new byte[] {42}), true);
            assertEquals(42, read(sandbox, 0));
            ByteBuffer now = ByteBuffer.allocate(1);
            set.device("data").read(0, now);
            assertEquals(6, now.get(0), "the set is untouched");
            assertEquals(6, set.lastSeq(), "nothing was captured");
        }
        JsonNode list = cli.ok("sandbox", "list", "--json").json().get("sandboxes");
        assertEquals(1, list.size());
        assertEquals("probe", list.get(0).get("name").asText());
        assertEquals(1, list.get(0).get("overlayBytes").asLong());
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            assertEquals(42, read(d.sandboxes().open(set, "probe"), 0), "a flushed sandbox write survives reopening");
        }
        String out = cli.ok("sandbox", "drop", "shop", "probe").out();
        assertTrue(out.contains("dropped sandbox probe"), out);
        try (var left = Files.list(tmp.resolve("data/sandboxes/shop"))) {
            assertEquals(0, left.count(), "no file of a dropped sandbox is left");
        }
        assertTrue(cli.ok("sandbox", "list").out().contains("no sandboxes"));
    }

    @Test
    void badInputIsRefusedWithOneLineAndNothingChanges() throws Exception {
        cli.refused("no set named nope", "sandbox", "create", "nope", "x", "--at", "1");
        cli.refused("sandbox name 'bad name' is not valid", "sandbox", "create", "shop", "bad name", "--at", "1");
        cli.refused("beyond the newest write", "sandbox", "create", "shop", "x", "--at", "99");
        cli.refused("no bookmark named gone", "sandbox", "create", "shop", "x", "--at", "bookmark:gone");
        cli.refused("in the future", "sandbox", "create", "shop", "x", "--at", "time:2999-01-01T00:00:00Z");
        cli.refused("no sandbox named x", "sandbox", "drop", "shop", "x");
        cli.usage("--at", "sandbox", "create", "shop", "x");
        cli.ok("sandbox", "create", "shop", "x", "--at", "2");
        cli.refused("already has a sandbox named x", "sandbox", "create", "shop", "x", "--at", "4");
        cli.refused("drop them first", "set", "delete", "shop", "--confirm", "shop");
    }

    @Test
    void bisectSandboxesAreBisectsOwnAndTheOnesAKilledDaemonLeftAreDroppedAtItsStart() throws Exception {
        cli.refused("sandbox names beginning 'bisect-' are rewind bisect's own", "sandbox", "create", "shop", "bisect-3", "--at", "3");
        cli.ok("sandbox", "create", "shop", "look", "--at", "3");
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            d.sandboxes().create(set, SandboxCheck.NAME_PREFIX + "4", 4, "4"); // as a bisect step does, before the daemon was killed
            assertEquals(List.of("dropped sandbox bisect-4 of set shop (seq 4), left by a bisect that did not finish"),
                    SandboxCheck.dropInterrupted(d, d.sandboxes()));
            assertEquals(List.of("look"), d.sandboxes().list("shop").stream().map(r -> r.name()).toList(), "a user's sandbox stays");
            assertEquals(List.of(), SandboxCheck.dropInterrupted(d, d.sandboxes()));
        }
        try (var left = Files.list(tmp.resolve("data/sandboxes/shop"))) {
            assertEquals(1, left.count(), "only the user's sandbox is on disk");
        }
    }

    private static int read(Sandbox sandbox, long offset) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(1);
        sandbox.member("data").read(offset, b);
        assertFalse(b.hasRemaining());
        return b.get(0);
    }
}
