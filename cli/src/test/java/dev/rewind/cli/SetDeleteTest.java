package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rewind set delete}: careful by default, the history kept unless asked for. */
class SetDeleteTest {
    @TempDir
    Path tmp;
    CliHarness cli;
    Path secondary;

    @BeforeEach
    void setUp() throws Exception {
        cli = new CliHarness(tmp);
        cli.createShop();
        secondary = Path.of(cli.ok("status", "shop", "--json").json().get("sets").get(0).get("secondary").asText());
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            set.device("data").write(0, ByteBuffer.wrap(new byte[] {1}), true);
        }
        cli.ok("bookmark", "shop", "one");
    }

    @Test
    void withoutTheNameTwiceNothingIsDeleted() throws Exception {
        cli.usage("needs its name twice", "set", "delete", "shop");
        cli.usage("is not the set's name 'shop'", "set", "delete", "shop", "--confirm", "shpo");
        cli.usage("is not the set's name 'shop'", "set", "delete", "shop", "--confirm", "shpo", "--delete-secondary");
        cli.refused("no set named shpo", "set", "delete", "shpo", "--confirm", "shpo");
        assertEquals(1, cli.ok("set", "list", "--json").json().get("sets").size());
    }

    @Test
    void deleteKeepsTheSecondaryAndFreesTheMembers() throws Exception {
        String out = cli.ok("set", "delete", "shop", "--confirm", "shop").out();
        assertTrue(out.contains("history stays in " + secondary), out);
        assertTrue(Files.isDirectory(secondary.resolve("journal")), "the journal is kept");
        assertEquals(0, cli.ok("set", "list", "--json").json().get("sets").size());
        cli.refused("no set named shop", "log", "shop");
        // the LVs are free again; the kept secondary is not reused by accident
        cli.refused("is not empty", "set", "create", "shop", "--member", "vg0/data");
        JsonNode again = cli.ok("set", "create", "shop2", "--member", "vg0/data", "--member", "vg0/log", "--json").json();
        assertEquals(2, again.get("members").size());
        assertEquals(0, cli.ok("bookmark", "list", "shop2", "--json").json().get("bookmarks").size());
    }

    @Test
    void deleteSecondaryRemovesTheHistoryToo() throws Exception {
        JsonNode r = cli.ok("set", "delete", "shop", "--confirm", "shop", "--delete-secondary", "--json").json();
        assertTrue(r.get("secondaryDeleted").asBoolean());
        assertFalse(Files.exists(secondary));
        cli.ok("set", "create", "shop", "--member", "vg0/data");
        assertEquals(0, cli.ok("bookmark", "list", "shop", "--json").json().get("bookmarks").size(), "old bookmarks went with the set");
    }

    @Test
    void aSetInUseIsNotDeleted() throws Exception {
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            cli.refused("in use", "set", "delete", "shop", "--confirm", "shop", "--delete-secondary");
        }
        assertTrue(Files.isDirectory(secondary.resolve("journal")));
        assertEquals(1, cli.ok("bookmark", "list", "shop", "--json").json().get("bookmarks").size());
    }
}
