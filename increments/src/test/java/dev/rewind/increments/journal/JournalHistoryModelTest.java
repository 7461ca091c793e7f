package dev.rewind.increments.journal;

import dev.rewind.testfixtures.clock.MovingClock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.seed.Seeds;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random appends, flushes, segment rolls, reopens, read-only opens and deletions of old
 * segments against a model (every record appended, with its payload): every seq the journal
 * still holds answers exactly as the model, every deleted one is refused, and each deletion
 * removed exactly the oldest segments that qualified. Replay one seed with {@code -Drewind.seed=N}.
 */
class JournalHistoryModelTest {
    private static final UUID SET = UUID.fromString("5e7a0000-0000-4000-8000-0000000000a1");

    @TempDir
    Path dir;

    static LongStream seeds() {
        return Seeds.range(0x415_0001L, 30);
    }

    /** What was appended: the record as the journal reported it, and a WRITE's payload. */
    private record Appended(JournalRecord record, byte[] payload) {
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void historyMatchesTheModelThroughRollsReopensAndDeletions(long seed) throws IOException {
        String where = Seeds.describe(seed);
        Random random = new Random(seed);
        MovingClock clock = new MovingClock(Instant.parse("2032-01-01T00:00:00Z"), Duration.ZERO);
        long segmentBytes = 2048 + random.nextInt(8192);
        long firstSeq = 1 + random.nextInt(1000);
        List<Appended> model = new ArrayList<>(); // index i is seq firstSeq + i
        long modelFirst = firstSeq;
        Journal journal = Journal.open(dir, SET, firstSeq, segmentBytes, clock);
        try {
            int ops = 300 + random.nextInt(300);
            for (int op = 0; op < ops; op++) {
                String at = where + ", op " + op;
                int kind = random.nextInt(100);
                if (kind < 70) {
                    RecordType type = RecordType.values()[random.nextInt(3)];
                    int length = type == RecordType.WRITE ? 1 + random.nextInt(random.nextInt(10) == 0 ? 5000 : 300) : 512 * (1 + random.nextInt(64));
                    byte[] payload = null;
                    if (type == RecordType.WRITE) {
                        payload = new byte[length];
                        random.nextBytes(payload);
                    }
                    long seq = journal.append(type, random.nextInt(2), random.nextInt(4), random.nextInt(1 << 20) * 512L, length,
                            payload == null ? null : ByteBuffer.wrap(payload));
                    assertEquals(firstSeq + model.size(), seq, at);
                    model.add(new Appended(journal.record(seq), payload));
                    clock.advance(Duration.ofMillis(random.nextInt(50)));
                } else if (kind < 78) {
                    journal.flush();
                } else if (kind < 84) {
                    journal.close();
                    journal = Journal.open(dir, SET, firstSeq, segmentBytes, clock);
                    assertEquals(modelFirst, journal.firstSeq(), at + ": first seq after reopen");
                } else if (kind < 88) {
                    journal.flush();
                    try (Journal reader = Journal.openReadOnly(dir, SET)) {
                        assertModel(reader, model, firstSeq, modelFirst, random, at + " (read-only)");
                    }
                } else if (kind < 96) {
                    long lastSeq = firstSeq + model.size() - 1;
                    long covered = modelFirst + (long) (random.nextDouble() * (lastSeq - modelFirst + 20));
                    Instant olderThan = clock.instant().minus(Duration.ofMillis(random.nextInt(3000)));
                    List<Long> segmentsBefore = segmentFirstSeqs();
                    long bytesBefore = directoryBytes();
                    long freed = journal.deleteSegmentsUpTo(covered, olderThan);
                    assertEquals(bytesBefore - directoryBytes(), freed, at + ": bytes freed");
                    List<Long> segmentsAfter = segmentFirstSeqs();
                    long newFirst = segmentsAfter.get(0);
                    assertEquals(newFirst, journal.firstSeq(), at);
                    assertEquals(segmentsBefore.subList(segmentsBefore.size() - segmentsAfter.size(), segmentsBefore.size()), segmentsAfter,
                            at + ": only the oldest segments go");
                    if (newFirst > modelFirst) {
                        assertTrue(newFirst - 1 <= covered, at + ": a deleted segment held a seq not covered");
                        assertTrue(model.get((int) (newFirst - 1 - firstSeq)).record().time().isBefore(olderThan), at + ": deleted too young");
                    }
                    if (segmentsAfter.size() > 1) {
                        long lastOfOldest = segmentsAfter.get(1) - 1;
                        boolean qualified = lastOfOldest <= covered
                                && model.get((int) (lastOfOldest - firstSeq)).record().time().isBefore(olderThan);
                        assertTrue(!qualified, at + ": the oldest segment left qualified for deletion");
                    }
                    modelFirst = newFirst;
                } else {
                    assertModel(journal, model, firstSeq, modelFirst, random, at);
                }
            }
            journal.close();
            journal = Journal.open(dir, SET, firstSeq, segmentBytes, clock);
            assertModel(journal, model, firstSeq, modelFirst, null, where + ", at the end");
            assertEquals(firstSeq + model.size() - modelFirst, journal.verify(), where);
        } finally {
            journal.close();
        }
    }

    /** Compares every kept seq (or, with a random, a sample) with the model, and checks deleted seqs are refused. */
    private static void assertModel(Journal journal, List<Appended> model, long firstSeq, long modelFirst, Random sample, String at)
            throws IOException {
        long lastSeq = firstSeq + model.size() - 1;
        assertEquals(modelFirst, journal.firstSeq(), at + ": first seq");
        assertEquals(lastSeq, journal.lastSeq(), at + ": last seq");
        for (long seq = modelFirst; seq <= lastSeq; seq++) {
            if (sample != null && sample.nextInt(4) != 0) {
                continue;
            }
            Appended a = model.get((int) (seq - firstSeq));
            assertEquals(a.record(), journal.record(seq), at + ", seq " + seq);
            if (a.payload() != null) {
                assertArrayEquals(a.payload(), JournalTest.payload(journal, seq), at + ", payload of seq " + seq);
            }
        }
        if (modelFirst > firstSeq) {
            long gone = firstSeq + (sample == null ? 0 : sample.nextInt((int) (modelFirst - firstSeq)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> journal.record(gone), at);
            assertEquals("seq " + gone + " is not in the journal (" + modelFirst + ".." + lastSeq + ")", e.getMessage(), at);
            assertThrows(IllegalArgumentException.class, () -> journal.readPayload(gone, ByteBuffer.allocate(1 << 16)), at);
        }
        if (lastSeq >= modelFirst) {
            Instant t = model.get((int) (lastSeq - firstSeq)).record().time();
            assertEquals(lastSeq, journal.lastSeqAtOrBefore(t), at + ": time lookup of the newest record");
        }
    }

    private List<Long> segmentFirstSeqs() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(JournalSegment.SUFFIX)).sorted().map(SegmentIndexFileTest::firstSeqOf).toList();
        }
    }

    private long directoryBytes() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            long total = 0;
            for (Path p : s.toList()) {
                total += Files.size(p);
            }
            return total;
        }
    }
}
