package dev.rewind.cli.nbd;

import dev.rewind.testfixtures.nbd.NbdTestClient;

import static dev.rewind.cli.nbd.RewindServe.SET;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind serve} on a set whose restore in place was cut short: it says so when it
 * starts, does not serve the members as they are now (a database must not see the half-restored
 * state, not even read-only), still serves the past, reports the restore in {@code status}
 * through its control API, and serves the members again once {@code restore --resume} has
 * finished the restore through it.
 */
class InterruptedRestoreServeIT {
    @TempDir
    Path dir;

    @Test
    void serveWithholdsTheHalfRestoredSetUntilResumeFinishesIt() throws Exception {
        byte[] first = new byte[8192];
        Arrays.fill(first, (byte) 0x11);
        byte[] later = new byte[8192];
        Arrays.fill(later, (byte) 0x22);
        try (RewindServe serve = RewindServe.create(dir, "data", "8M")) {
            try (DataDir data = new DataDir(serve.data); CapturedSet set = data.openSet(SET)) {
                set.device("data").write(0, ByteBuffer.wrap(first), false);
                for (int i = 0; i < 4; i++) {
                    set.device("data").write(i * (1L << 20), ByteBuffer.wrap(later), false);
                }
                long[] written = {0};
                assertThrows(IllegalStateException.class, () -> set.restoreInPlace(1, bytes -> {
                    if ((written[0] += bytes) > 0) {
                        throw new IllegalStateException("cut short, as by a kill");
                    }
                }));
            }
            serve.start();
            assertTrue(serve.log().contains("set set is not served as it is now: restore in place to seq 1"), serve.log());

            AssertionError refused = assertThrows(AssertionError.class, () -> NbdTestClient.open(serve.port(), SET + "/data").close(),
                    "GO on a half-restored member is refused");
            assertTrue(refused.getMessage().contains("interrupted"), refused.getMessage());
            try (NbdTestClient past = NbdTestClient.open(serve.port(), SET + "/data@1")) {
                assertArrayEquals(first, past.read(0, first.length), "the past is still served");
            }

            JsonNode status = serve.status();
            assertEquals(1, status.get("interruptedRestore").get("targetSeq").asLong(), status.toString());
            JsonNode resumed = serve.json("restore", "--resume", SET, "--json");
            assertEquals(1, resumed.get("targetSeq").asLong(), resumed.toString());
            assertTrue(serve.status().get("interruptedRestore").isNull());

            try (NbdTestClient present = NbdTestClient.open(serve.port(), SET + "/data")) {
                assertArrayEquals(first, present.read(0, first.length), "the set equals seq 1");
                assertArrayEquals(new byte[8192], present.read(1L << 20, 8192), "what came after seq 1 is gone");
                assertEquals(0, present.write(4096, new byte[512]), "writes are taken again");
            }
        }
    }
}
