package dev.rewind.cli.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a DBA's scripts see of {@code rewind serve}, with the commands run as their own processes
 * through its control API: status names the NBD clients of each export, a refusal under
 * {@code --json} is one JSON document, and the daemon's log says who ran a restore and how it ended.
 */
class ServeStatusAndAuditIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void statusThroughTheDaemonSaysInUseAndNamesTheNbdClientsOfEachExport() throws Exception {
        try (RewindServe serve = RewindServe.create(dir, "data", "4M", "wal", "1M")) {
            serve.start();
            assertTrue(!serve.status().get("inUse").asBoolean() && serve.status().get("nbdClients").isEmpty(), serve.status().toString());
            try (NbdTestClient a = NbdTestClient.open(serve.port(), "set/data");
                 NbdTestClient b = NbdTestClient.open(serve.port(), "set/data")) {
                JsonNode status = serve.status();
                assertTrue(status.get("inUse").asBoolean(), "NBD clients are connected: " + status);
                JsonNode clients = status.get("nbdClients");
                assertEquals(1, clients.size(), clients.toString());
                assertEquals("set/data", clients.get(0).get("export").asText());
                assertEquals(2, clients.get(0).get("count").asInt());
                assertEquals(java.util.Set.of(String.valueOf(a.socket.getLocalSocketAddress()), String.valueOf(b.socket.getLocalSocketAddress())),
                        java.util.Set.of(clients.get(0).get("peers").get(0).asText(), clients.get(0).get("peers").get(1).asText()));
                String human = serve.ok("status", RewindServe.SET).out();
                assertTrue(human.contains("NBD clients on set/data: 2 ("), human);
            }
        }
    }

    @Test
    void aRestoreRefusedInTheDaemonIsOneJsonErrorAndTheLogSaysWhoAskedAndHowItEnded() throws Exception {
        try (RewindServe serve = RewindServe.create(dir, "data", "4M")) {
            serve.start();
            try (NbdTestClient client = NbdTestClient.open(serve.port(), "set/data")) {
                Tools.Result r = serve.rewind("restore", RewindServe.SET, "--to-seq", "0", "--json");
                assertEquals(1, r.exit(), r.describe());
                JsonNode error = JSON.readTree(r.out());
                assertEquals(1, error.get("code").asInt(), r.out());
                assertTrue(error.get("error").asText().contains("connected NBD client"), r.out());
                assertEquals("rewind: " + error.get("error").asText(), r.err().strip(), "the human line stays on stderr");
            }
            Tools.Result usage = serve.rewind("restore", RewindServe.SET, "--to-lsn", "zz", "--json");
            assertEquals(2, usage.exit(), usage.describe());
            assertEquals(2, JSON.readTree(usage.out()).get("code").asInt(), usage.out());

            String command = "rewind --data " + serve.data + " restore " + RewindServe.SET + " --to-seq 0 --json";
            String who = "asked by user " + System.getProperty("user.name") + ", group ";
            String log = serve.log();
            assertTrue(log.lines().anyMatch(l -> l.contains("control: " + command + " started, " + who) && l.contains(", pid ")), log);
            assertTrue(log.lines().anyMatch(l -> l.contains("control: " + command + " ended with exit 1 after ") && l.contains(who)), log);
        }
    }
}
