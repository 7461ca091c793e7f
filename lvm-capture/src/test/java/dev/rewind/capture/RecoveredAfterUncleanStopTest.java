package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Recovered after an unclean stop" ({@link CapturedSet#isRecoveredAfterUncleanStop}) holds
 * from the open that repaired the set, for as long as that open lasts (a daemon's), until a
 * verify passes or the set is closed cleanly and opened again.
 */
class RecoveredAfterUncleanStopTest {
    @TempDir
    Path tmp;

    /** Writes one block and closes cleanly, then leaves a torn record after the journal's last one, as a crash mid-append does. */
    private static void writeThenTearTheJournal(TestSet t) throws IOException {
        Path journal;
        try (CapturedSet set = t.open()) {
            set.device("m0").write(0, ByteBuffer.wrap(new byte[4096]), true);
            journal = set.record().secondaryDir().resolve("journal");
        }
        Path newest;
        try (Stream<Path> s = Files.list(journal)) {
            newest = s.filter(p -> p.getFileName().toString().endsWith(".rwj")).sorted().reduce((a, b) -> b).orElseThrow();
        }
        Files.write(newest, new byte[] {0x52, 0x57, 0x4A, 0x31, 1, 2, 3}, StandardOpenOption.APPEND);
    }

    @Test
    void aPassingVerifyClearsTheFlagOfTheOpenThatRecovered() throws Exception {
        try (TestSet t = TestSet.create(tmp, "s", 256 << 10)) {
            writeThenTearTheJournal(t);
            try (CapturedSet set = t.open()) {
                assertTrue(set.isRecoveredAfterUncleanStop(), "the open that truncated a torn tail: " + set.recovery());
                set.device("m0").write(8192, ByteBuffer.wrap(new byte[4096]), true);
                assertTrue(set.isRecoveredAfterUncleanStop(), "writes after the recovery do not clear it");
                set.verify();
                assertFalse(set.isRecoveredAfterUncleanStop(), "a passing verify clears it while the set stays open");
            }
        }
    }

    @Test
    void aCleanCloseAndAReopenClearTheFlag() throws Exception {
        try (TestSet t = TestSet.create(tmp, "s", 256 << 10)) {
            writeThenTearTheJournal(t);
            try (CapturedSet set = t.open()) {
                assertTrue(set.isRecoveredAfterUncleanStop());
            }
            try (CapturedSet set = t.open()) {
                assertFalse(set.isRecoveredAfterUncleanStop(), "reopened after a clean close: " + set.recovery());
            }
        }
    }
}
