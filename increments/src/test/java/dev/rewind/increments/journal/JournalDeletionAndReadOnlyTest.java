package dev.rewind.increments.journal;

import dev.rewind.testfixtures.clock.MovingClock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.Times;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deleting old segments for a history horizon, and opening a journal only to look at it. */
class JournalDeletionAndReadOnlyTest {
    private static final long SEGMENT_BYTES = 2048;
    private static final Instant T0 = Instant.parse("2033-03-03T03:03:03Z");
    private static final UUID SET = UUID.fromString("5e7a0000-0000-4000-8000-0000000000d1");

    @TempDir
    Path dir;
    private final MovingClock clock = new MovingClock(T0, Duration.ofMillis(1));

    // ---- deletion ----

    @Test
    void deletionNeverTakesTheActiveSegment() throws IOException {
        try (Journal journal = open()) {
            appendWrites(journal, 100);
            Path active = last(segmentFiles());
            long activeFirst = SegmentIndexFileTest.firstSeqOf(active);
            assertTrue(journal.deleteSegmentsUpTo(Long.MAX_VALUE, Instant.MAX.minusSeconds(1)) > 0);
            assertEquals(List.of(active), segmentFiles(), "only the active segment is left");
            assertEquals(activeFirst, journal.firstSeq());
            assertEquals(0, journal.deleteSegmentsUpTo(Long.MAX_VALUE, Instant.MAX.minusSeconds(1)), "nothing more to delete");
            assertEquals(100, journal.lastSeq());
            long next = journal.append(RecordType.WRITE, 0, 0, 0, 10, ByteBuffer.wrap(JournalTest.bytes(1, 10)));
            assertEquals(101, next, "appending goes on");
        }
    }

    @Test
    void deletionStopsAtTheFirstSegmentNotCoveredOrTooYoung() throws IOException {
        try (Journal journal = open()) {
            appendWrites(journal, 100);
            List<Path> segments = segmentFiles();
            long secondFirst = SegmentIndexFileTest.firstSeqOf(segments.get(1));
            long thirdFirst = SegmentIndexFileTest.firstSeqOf(segments.get(2));
            assertEquals(0, journal.deleteSegmentsUpTo(secondFirst - 2, Instant.MAX.minusSeconds(1)), "first segment not covered");
            assertEquals(0, journal.deleteSegmentsUpTo(Long.MAX_VALUE, journal.record(secondFirst - 1).time()),
                    "first segment's newest record is not older than the horizon");
            long freed = journal.deleteSegmentsUpTo(thirdFirst - 2, Instant.MAX.minusSeconds(1));
            assertTrue(freed > 0);
            assertEquals(secondFirst, journal.firstSeq(), "the second segment still held an uncovered seq");
            assertFalse(Files.exists(segments.get(0)));
            assertFalse(Files.exists(SegmentIndexFile.pathFor(segments.get(0))));
            long createdMicros = ByteBuffer.wrap(Files.readAllBytes(segments.get(1))).getLong(40);
            assertEquals(Times.micros(journal.startedAt()), createdMicros, "startedAt follows the oldest segment left");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> journal.record(3));
            assertEquals("seq 3 is not in the journal (" + secondFirst + "..100)", e.getMessage());
        }
        try (Journal reopened = open()) {
            assertEquals(SegmentIndexFileTest.firstSeqOf(segmentFiles().get(0)), reopened.firstSeq());
            assertEquals(100, reopened.lastSeq());
            assertEquals(100 - reopened.firstSeq() + 1, reopened.verify());
        }
    }

    @Test
    void aCrashBetweenDeletionsLeavesAValidJournal() throws IOException {
        Map<Long, byte[]> payloads = new HashMap<>();
        try (Journal journal = open()) {
            payloads.putAll(appendWrites(journal, 100));
        }
        List<Path> segments = segmentFiles();
        // as if the process died after deleting the oldest segment file, before its index and the next segment
        Files.delete(segments.get(0));
        try (Journal journal = open()) {
            assertEquals(SegmentIndexFileTest.firstSeqOf(segments.get(1)), journal.firstSeq());
            for (long seq = journal.firstSeq(); seq <= 100; seq++) {
                assertArrayEquals(payloads.get(seq), JournalTest.payload(journal, seq), "seq " + seq);
            }
        }
        assertFalse(Files.exists(SegmentIndexFile.pathFor(segments.get(0))), "the orphaned index file is removed");
    }

    @Test
    void aMissingSegmentInTheMiddleIsCorruptionEvenAfterDeletions() throws IOException {
        try (Journal journal = open()) {
            appendWrites(journal, 100);
            journal.deleteSegmentsUpTo(SegmentIndexFileTest.firstSeqOf(segmentFiles().get(2)) - 1, Instant.MAX.minusSeconds(1));
        }
        List<Path> segments = segmentFiles();
        Files.delete(segments.get(1));
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> open().close());
        assertEquals(segments.get(2), e.file());
    }

    @Test
    void appendsAndFlushesGoOnWhileSegmentsAreDeleted() throws Exception {
        Map<Long, byte[]> payloads = new java.util.concurrent.ConcurrentHashMap<>();
        try (Journal journal = open()) {
            payloads.putAll(appendWrites(journal, 50));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 1000; i++) {
                        byte[] b = JournalTest.bytes(1000 + i, 100);
                        long seq = journal.append(RecordType.WRITE, 0, 0, i * 512L, 100, ByteBuffer.wrap(b));
                        payloads.put(seq, b);
                        if (i % 20 == 0) {
                            journal.flush();
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "journal-deletion-test-writer");
            writer.start();
            long freed = 0;
            while (writer.isAlive()) {
                freed += journal.deleteSegmentsUpTo(journal.durableSeq(), Instant.MAX.minusSeconds(1));
            }
            writer.join();
            if (failure.get() != null) {
                throw new AssertionError("append failed while deleting", failure.get());
            }
            assertTrue(freed > 0);
            journal.flush();
            assertEquals(1050, journal.lastSeq());
            for (long seq = journal.firstSeq(); seq <= journal.lastSeq(); seq++) {
                assertArrayEquals(payloads.get(seq), JournalTest.payload(journal, seq), "seq " + seq);
            }
        }
        try (Journal reopened = open()) {
            assertEquals(1050, reopened.lastSeq());
            reopened.verify();
        }
    }

    // ---- read-only ----

    @Test
    void aReadOnlyOpenServesRecordsUpToATornTailAndChangesNothing() throws IOException {
        Map<Long, byte[]> payloads;
        try (Journal journal = open()) {
            payloads = appendWrites(journal, 60);
        }
        Path newest = last(segmentFiles());
        long[] seq60 = JournalTest.recordHeaders(newest).stream().filter(h -> h[1] == 60).findFirst().orElseThrow();
        try (FileChannel c = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            c.truncate(seq60[0] + JournalSegment.RECORD_HEADER_BYTES + 10); // seq 60 torn inside its payload
        }
        Path sealedIndex = SegmentIndexFile.pathFor(segmentFiles().get(1));
        Files.delete(sealedIndex); // a missing index is scanned, not rewritten
        Map<Path, byte[]> before = contents();

        try (Journal reader = Journal.openReadOnly(dir, SET)) {
            assertEquals(59, reader.lastSeq(), "records up to the torn one are served");
            assertEquals(59, reader.durableSeq());
            assertEquals(1, reader.firstSeq());
            for (long seq = 1; seq <= 59; seq++) {
                assertArrayEquals(payloads.get(seq), JournalTest.payload(reader, seq), "seq " + seq);
            }
            assertEquals(59, reader.verify());
            ByteBuffer one = ByteBuffer.wrap(new byte[1]);
            assertThrows(IllegalStateException.class, () -> reader.append(RecordType.WRITE, 0, 0, 0, 1, one));
            assertThrows(IllegalStateException.class, () -> reader.reserve(RecordType.TRIM, 0, 0, 0, 512));
            assertThrows(IllegalStateException.class, reader::flush);
            assertThrows(IllegalStateException.class, () -> reader.flushTo(1));
            assertThrows(IllegalStateException.class, () -> reader.deleteSegmentsUpTo(10, Instant.MAX));
        }
        assertEquals(before.keySet(), contents().keySet(), "no file added or removed");
        for (Map.Entry<Path, byte[]> e : before.entrySet()) {
            assertArrayEquals(e.getValue(), contents().get(e.getKey()), e.getKey() + " unchanged");
        }
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("rewind-journal-force-" + dir)),
                "no force thread");
        try (Journal journal = open()) {
            assertEquals(59, journal.lastSeq(), "a writable open truncates the same torn tail");
        }
    }

    @Test
    void aReadOnlyOpenOfAMissingJournalSaysSo() {
        assertThrows(NoSuchFileException.class, () -> Journal.openReadOnly(dir.resolve("none"), SET));
        assertThrows(NoSuchFileException.class, () -> Journal.openReadOnly(dir, SET));
    }

    // ---- helpers ----

    private Journal open() throws IOException {
        return Journal.open(dir, SET, 1, SEGMENT_BYTES, clock);
    }

    private static Map<Long, byte[]> appendWrites(Journal journal, int count) throws IOException {
        Map<Long, byte[]> payloads = new HashMap<>();
        for (int i = 0; i < count; i++) {
            byte[] b = JournalTest.bytes(i, 150);
            payloads.put(journal.append(RecordType.WRITE, 0, 0, i * 512L, b.length, ByteBuffer.wrap(b)), b);
        }
        journal.flush();
        return payloads;
    }

    private Map<Path, byte[]> contents() throws IOException {
        Map<Path, byte[]> all = new HashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                all.put(p, Files.readAllBytes(p));
            }
        }
        return all;
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(p -> p.toString().endsWith(JournalSegment.SUFFIX)).sorted().toList());
        }
    }

    private static <T> T last(List<T> list) {
        return list.get(list.size() - 1);
    }
}
