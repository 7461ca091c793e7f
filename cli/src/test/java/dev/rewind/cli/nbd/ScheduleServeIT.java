package dev.rewind.cli.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind serve} runs the period cuts: a set with {@code --cut-every 1s} gets
 * transactions while a client writes, with no command asking; {@code rewind schedule} lists
 * its jobs; they are still there after the daemon restarts; {@code set update} and
 * {@code cut} reach the live set.
 */
class ScheduleServeIT {
    /** How long the test waits for a period cut that is due every second; a bound for a hung daemon, not a timing check. */
    private static final Duration PATIENCE = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @Test
    void periodCutsRunUnderServeAndTheScheduleSurvivesARestart() throws Exception {
        try (RewindServe serve = RewindServe.create(dir, "data", "4M")) {
            serve.ok("set", "update", RewindServe.SET, "--cut-every", "1s");
            serve.start();

            JsonNode jobs = serve.json("schedule", "--json");
            assertTrue(jobs.get("running").asBoolean(), jobs.toString());
            assertEquals(List.of("set cut 1s", "set checkpoint 30s"), describe(jobs), jobs.toString());
            assertFalse(jobs.get("jobs").get(0).get("nextFire").isNull(), jobs.toString());

            write(serve, 0);
            long first = awaitPeriodCuts(serve, 1);

            serve.stop();
            JsonNode stopped = serve.json("schedule", "--json");
            assertFalse(stopped.get("running").asBoolean(), stopped.toString());
            serve.start();
            assertEquals(List.of("set cut 1s", "set checkpoint 30s"), describe(serve.json("schedule", RewindServe.SET, "--json")),
                    "the job store in the catalog kept the schedule");
            write(serve, 8192);
            assertTrue(awaitPeriodCuts(serve, first + 1) > first);

            serve.ok("set", "update", RewindServe.SET, "--cut-every", "off");
            assertEquals(List.of("set checkpoint 30s"), describe(serve.json("schedule", "--json")), "update re-schedules the live set");
            write(serve, 16384);
            JsonNode cut = serve.json("cut", RewindServe.SET, "--json").get("transaction");
            assertEquals("demand", cut.get("reason").asText(), cut.toString());
            JsonNode status = serve.status();
            assertEquals(cut.get("id").asLong(), status.get("transactions").asLong(), status.toString());
        }
    }

    /** Jobs as {@code set kind every}, in the order listed (cut before checkpoint). */
    private static List<String> describe(JsonNode schedule) {
        List<String> out = new ArrayList<>();
        for (JsonNode j : schedule.get("jobs")) {
            out.add(j.get("set").asText() + " " + j.get("job").asText() + " " + j.get("every").asText());
        }
        out.sort((a, b) -> a.contains("cut") == b.contains("cut") ? a.compareTo(b) : a.contains("cut") ? -1 : 1);
        return out;
    }

    private static void write(RewindServe serve, long offset) throws Exception {
        try (NbdTestClient client = NbdTestClient.open(serve.port(), RewindServe.SET + "/data")) {
            byte[] block = new byte[4096];
            block[0] = 42;
            client.writeRequest(0, 1, offset, block);
            assertEquals(0, client.readSimpleReply().error());
        }
    }

    /** Waits until the set has at least {@code count} period-cut transactions and returns how many it has. */
    private static long awaitPeriodCuts(RewindServe serve, long count) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            JsonNode listed = serve.json("log", RewindServe.SET, "--transactions", "--json");
            long periodCuts = 0;
            for (JsonNode t : listed.get("transactions")) {
                if (t.get("reason").asText().equals("period")) {
                    periodCuts++;
                }
            }
            if (periodCuts >= count) {
                return periodCuts;
            }
            if (System.nanoTime() > deadline) {
                fail("no period cut within " + PATIENCE + ": " + listed + "\n" + serve.log());
            }
            Thread.sleep(500);
        }
    }
}
