package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rewind bookmark SET NAME}, {@code bookmark list} and {@code bookmark delete}. */
class BookmarkCommandTest {
    @TempDir
    Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cli = new CliHarness(tmp);
        cli.createShop();
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            for (int i = 0; i < 3; i++) {
                set.device("data").write(i * 4096L, ByteBuffer.wrap(new byte[] {(byte) i}), true);
            }
        }
    }

    @Test
    void namesWithControlCharactersAreRefusedAsUsage() throws Exception {
        for (int codePoint : new int[] {0x0A, 0x0D, 0x00, 0x09, 0x1B, 0x7F, 0x85, 0x2028, 0x202E}) {
            String name = "before" + new String(Character.toChars(codePoint)) + "upgrade";
            cli.usage(String.format("control character U+%04X", codePoint), "bookmark", "shop", name);
        }
        assertEquals(0, cli.ok("bookmark", "list", "shop", "--json").json().get("bookmarks").size());
    }

    @Test
    void emptyAndOverlongNamesAreRefusedAsUsage() throws Exception {
        cli.usage("empty", "bookmark", "shop", "");
        cli.usage("empty", "bookmark", "shop", "   ");
        cli.usage("the most is 128", "bookmark", "shop", "x".repeat(129));
        cli.ok("bookmark", "shop", "é".repeat(128));
    }

    @Test
    void listShowsEveryBookmarkNewestSeqFirstInTextAndJson() throws Exception {
        cli.ok("bookmark", "shop", "first", "--seq", "1");
        cli.ok("bookmark", "shop", "before upgrade");
        cli.ok("bookmark", "--", "shop", "list");   // after --, "list" is a bookmark name like any other
        JsonNode list = cli.ok("bookmark", "list", "shop", "--json").json();
        assertEquals("shop", list.get("set").asText());
        JsonNode bookmarks = list.get("bookmarks");
        assertEquals(3, bookmarks.size());
        assertEquals(3, bookmarks.get(0).get("seq").asLong());
        assertEquals(1, bookmarks.get(2).get("seq").asLong());
        assertEquals("first", bookmarks.get(2).get("name").asText());
        assertTrue(bookmarks.get(2).get("createdAt").asText().endsWith("Z"), bookmarks.toString());
        assertEquals(false, bookmarks.get(2).get("consistent").asBoolean());
        String text = cli.ok("bookmark", "list", "shop").out();
        assertTrue(text.contains("before upgrade") && text.contains("first"), text);
        assertEquals(4, text.lines().count(), "a header and one line per bookmark:\n" + text);
    }

    @Test
    void listSaysWhetherEachBookmarkIsABoundaryAnExactWriteOrGone() throws Exception {
        cli.ok("bookmark", "shop", "newest"); // cuts at seq 3: a boundary
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            set.device("data").write(0, ByteBuffer.wrap(new byte[] {9}), true); // seq 4
            set.device("data").write(4096, ByteBuffer.wrap(new byte[] {9}), true); // seq 5
        }
        cli.ok("cut", "shop");
        cli.ok("bookmark", "shop", "inside", "--seq", "4"); // inside the committed transaction 4..5: an exact write
        try (DataDir d = new DataDir(cli.data)) { // one whose history is not on hand (its seq was never written here)
            d.catalog().insertBookmark(new dev.rewind.volumeset.catalog.BookmarkRecord("shop", "lost", 99, 0, false, null));
        }
        JsonNode bookmarks = cli.ok("bookmark", "list", "shop", "--json").json().get("bookmarks");
        java.util.Map<String, String> states = new java.util.TreeMap<>();
        for (JsonNode b : bookmarks) {
            states.put(b.get("name").asText(), b.get("state").asText());
        }
        assertEquals(java.util.Map.of("newest", "boundary", "inside", "exact", "lost", "gone"), states, bookmarks.toString());
        assertTrue(bookmarks.get(0).get("why").asText().contains("beyond the newest write"), bookmarks.toString());
        String text = cli.ok("bookmark", "list", "shop").out();
        assertTrue(text.lines().anyMatch(l -> l.contains(" gone ") && l.contains("lost (seq 99 is beyond the newest write")), text);
    }

    @Test
    void deleteRemovesOnlyTheNameAndSaysHowToGetItBack() throws Exception {
        cli.ok("bookmark", "shop", "good", "--seq", "2");
        cli.ok("bookmark", "shop", "keep");
        String out = cli.ok("bookmark", "delete", "shop", "good").out();
        assertTrue(out.contains("rewind bookmark shop good --seq 2"), out);
        JsonNode left = cli.ok("bookmark", "list", "shop", "--json").json().get("bookmarks");
        assertEquals(1, left.size());
        assertEquals("keep", left.get(0).get("name").asText());
        cli.refused("no bookmark named good", "restore", "shop", "--to-bookmark", "good");
        cli.refused("no bookmark named good", "bookmark", "delete", "shop", "good");
        cli.refused("no set named nope", "bookmark", "delete", "nope", "keep");
        cli.refused("no set named nope", "bookmark", "list", "nope");
        cli.ok("bookmark", "shop", "good", "--seq", "2");
        assertEquals(2, cli.ok("restore", "shop", "--to-bookmark", "good", "--json").json().get("targetSeq").asLong());
    }

    @Test
    void setsCannotBeNamedLikeTheBookmarkSubcommands() throws Exception {
        cli.ok("lv", "create", "spare", "--vg", "vg0", "--size", "1M");
        cli.refused("may not be called 'list'", "set", "create", "list", "--member", "vg0/spare");
        cli.refused("may not be called 'delete'", "set", "create", "delete", "--member", "vg0/spare");
    }

    @Test
    void creatingStillWorksAsBefore() throws Exception {
        JsonNode b = cli.ok("bookmark", "shop", "now", "--json").json();
        assertEquals(3, b.get("seq").asLong());
        cli.refused("already has a bookmark named now", "bookmark", "shop", "now");
        cli.usage("Missing required parameter: 'NAME'", "bookmark", "shop");
        cli.usage("Missing required parameters: 'SET', 'NAME'", "bookmark");
        cli.usage("Missing required parameter", "bookmark", "list");
    }
}
