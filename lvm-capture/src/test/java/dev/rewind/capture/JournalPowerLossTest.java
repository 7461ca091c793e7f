package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import dev.rewind.testfixtures.seed.Seeds;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Power loss under a seeded journal workload of appends, flushes, segment rolls (each writing
 * its index file) and deletions of old segments, on the power-loss file system: after each
 * cut a read-only open and then a writable open both serve every flushed seq exactly as
 * written, the journal starts no later than the last deletion asked and no earlier than the
 * one before it, and it verifies. Lives here, not in {@code increments}, because the
 * power-loss file system is in {@code test-fixtures}, which depends on this module.
 */
class JournalPowerLossTest {
    private static final UUID SET = UUID.fromString("5e7a0000-0000-4000-8000-0000000000f1");

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x10_55_0001L, 8);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void flushedRecordsAndDeletionsSurvivePowerLoss(long seed) throws IOException {
        String where = Seeds.describe(seed);
        Random r = new Random(seed);
        Path root = Files.createDirectory(tmp.resolve("disk"));
        try (PowerLossDisk disk = PowerLossFileSystemProvider.installed().track(root)) {
            Path dir = root.resolve("journal");
            long segmentBytes = 1024 + r.nextInt(4096);
            List<byte[]> payloads = new ArrayList<>(); // index i: seq i + 1
            long durable = 0;
            long deletedUpTo = 0; // every seq at or below it may be gone
            long keptFrom = 1; // no seq at or after it may be gone
            for (int round = 1; round <= 6; round++) {
                String at = where + ", round " + round;
                Journal journal = Journal.open(dir, SET, 1, segmentBytes, Clock.systemUTC());
                try {
                    check(journal, payloads, durable, deletedUpTo, keptFrom, at);
                    long last = journal.lastSeq();
                    while (payloads.size() > last) {
                        payloads.remove(payloads.size() - 1); // unflushed records lost in the cut
                    }
                    int steps = 50 + r.nextInt(200);
                    for (int i = 0; i < steps; i++) {
                        int kind = r.nextInt(20);
                        if (kind < 16) {
                            byte[] b = new byte[1 + r.nextInt(400)];
                            r.nextBytes(b);
                            long seq = journal.append(RecordType.WRITE, 0, 0, r.nextInt(1000) * 512L, b.length, ByteBuffer.wrap(b));
                            assertEquals(payloads.size() + 1, seq, at);
                            payloads.add(b);
                        } else if (kind < 19) {
                            journal.flush();
                            durable = journal.lastSeq();
                        } else if (journal.lastSeq() >= journal.firstSeq()) {
                            long covered = journal.firstSeq() + r.nextInt((int) (journal.lastSeq() - journal.firstSeq() + 1));
                            keptFrom = journal.firstSeq();
                            journal.deleteSegmentsUpTo(covered, Instant.MAX);
                            deletedUpTo = journal.firstSeq() - 1;
                        }
                    }
                } finally {
                    disk.powerCut(r, PowerLossDisk.Survival.SOME_PAGES);
                    closeDead(journal);
                    disk.restart();
                }
                try (Journal reader = Journal.openReadOnly(dir, SET)) {
                    check(reader, payloads, durable, deletedUpTo, keptFrom, at + ", read-only after the cut");
                }
            }
        }
    }

    private static void check(Journal journal, List<byte[]> payloads, long durable, long deletedUpTo, long keptFrom, String at)
            throws IOException {
        assertTrue(journal.lastSeq() >= durable, at + ": every flushed seq survives (last " + journal.lastSeq() + ", flushed " + durable + ")");
        assertTrue(journal.firstSeq() <= deletedUpTo + 1 && journal.firstSeq() >= keptFrom,
                at + ": first seq " + journal.firstSeq() + " between " + keptFrom + " and " + (deletedUpTo + 1));
        for (long seq = journal.firstSeq(); seq <= Math.min(journal.lastSeq(), payloads.size()); seq++) {
            ByteBuffer dst = ByteBuffer.allocate(journal.lengthOf(seq));
            journal.readPayload(seq, dst);
            assertArrayEquals(payloads.get((int) seq - 1), dst.array(), at + ", seq " + seq);
        }
        assertTrue(journal.lastSeq() <= payloads.size(), at + ": no seq that was never appended");
        journal.verify();
    }

    private static void closeDead(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception expected) {
            // the power is off: nothing it does now reaches the disk
        }
    }
}
