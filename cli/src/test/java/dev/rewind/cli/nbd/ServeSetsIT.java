package dev.rewind.cli.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.cli.Main;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind serve} as a child process while a DBA changes the sets: a set created while it
 * runs is exported at once, a deleted one disappears (and is not deleted while a client uses it),
 * and a second {@code serve} on the same data dir is refused with the first one's pid.
 */
class ServeSetsIT {
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aSetCreatedWhileServingIsExportedAtOnceAndADeletedOneDisappears() throws Exception {
        String nbdinfo = Tools.requireTool("nbdinfo", "libnbd-bin");
        try (RewindServe serve = RewindServe.create(dir, "data", "4M")) {
            serve.inProcess("lv", "create", "extra", "--vg", "vg0", "--size", "3M");
            serve.start();
            assertEquals(Set.of("set/data"), exports(nbdinfo, serve));

            serve.ok("set", "create", "other", "--member", "vg0/extra");
            assertEquals(Set.of("set/data", "other/extra"), exports(nbdinfo, serve), "exported without a restart");
            JsonNode info = JSON.readTree(Tools.run(TOOL_TIMEOUT, nbdinfo, "--json", serve.uri("other/extra")).assertOk().out());
            assertEquals(3 << 20, info.get("exports").get(0).get("export-size").asLong());

            Tools.Result typo = serve.rewind("set", "delete", "other", "--confirm", "othre");
            assertEquals(Main.EXIT_USAGE, typo.exit(), typo.describe());
            try (NbdTestClient client = NbdTestClient.open(serve.port(), "other/extra")) {
                Tools.Result busy = serve.rewind("set", "delete", "other", "--confirm", "other", "--delete-secondary");
                assertEquals(Main.EXIT_REFUSED, busy.exit(), busy.describe());
                assertTrue(busy.err().contains("1 connected NBD client"), busy.describe());
                assertEquals(1, busy.err().strip().lines().count(), busy.describe());
            }
            assertEquals(Set.of("set/data", "other/extra"), exports(nbdinfo, serve), "a refused delete keeps the set served");

            Path secondary = serve.data.resolve("sets").resolve("other");
            assertTrue(Files.isDirectory(secondary));
            Tools.Result deleted = deleteOnceTheClientIsGone(serve);
            assertEquals(0, deleted.exit(), deleted.describe());
            assertEquals(Set.of("set/data"), exports(nbdinfo, serve), "gone without a restart");
            assertFalse(Files.exists(secondary), "--delete-secondary removed " + secondary);
            Tools.Result gone = Tools.run(TOOL_TIMEOUT, nbdinfo, serve.uri("other/extra"));
            assertTrue(gone.exit() != 0, "other/extra is no export any more: " + gone.describe());

            serve.ok("set", "create", "other", "--member", "vg0/extra");
            assertEquals(Set.of("set/data", "other/extra"), exports(nbdinfo, serve), "a set created again under the same name is served");
            int exit = serve.stop();
            assertTrue(exit == 0 || exit == 143, "rewind serve exited with status " + exit + " on SIGTERM:\n" + serve.log());
            assertFalse(serve.log().contains("Exception"), () -> "rewind serve printed an exception:\n" + serve.log());
        }
    }

    @Test
    void aSecondServeIsRefusedWithThePidOfTheRunningOne() throws Exception {
        try (RewindServe serve = RewindServe.create(dir, "data", "4M")) {
            serve.start();
            long pid = JSON.readTree(Files.readString(serve.data.resolve("daemon.json"))).get("pid").asLong();
            Tools.Result second = serve.rewind("serve", "--listen", "127.0.0.1:" + Tools.freePort());
            assertEquals(Main.EXIT_REFUSED, second.exit(), second.describe());
            String line = second.err().strip();
            assertEquals(1, line.lines().count(), second.describe());
            assertTrue(line.startsWith("rewind: rewind serve is already running") && line.contains("(pid " + pid + ")"), second.describe());
            assertTrue(serve.isRunning(), "the first serve still runs");
            assertEquals(0, serve.json("status", "--json").get("sets").get(0).get("lastSeq").asLong(), "and still answers");
        }
    }

    /** The server notices a closed client a moment after the socket closes: retry while it still counts it. */
    private static Tools.Result deleteOnceTheClientIsGone(RewindServe serve) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            Tools.Result r = serve.rewind("set", "delete", "other", "--confirm", "other", "--delete-secondary");
            if (r.exit() == 0 || !r.err().contains("connected NBD client") || attempt == 50) {
                return r;
            }
            Thread.sleep(200);
        }
    }

    private static Set<String> exports(String nbdinfo, RewindServe serve) throws Exception {
        JsonNode list = JSON.readTree(Tools.run(TOOL_TIMEOUT, nbdinfo, "--json", "--list", serve.uri("")).assertOk().out());
        Set<String> names = new TreeSet<>();
        for (JsonNode e : list.get("exports")) {
            names.add(e.get("export-name").asText());
        }
        return names;
    }
}
