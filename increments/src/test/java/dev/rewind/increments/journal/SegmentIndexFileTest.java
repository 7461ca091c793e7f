package dev.rewind.increments.journal;

import dev.rewind.testfixtures.clock.MovingClock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The index file of each sealed segment: written when the segment is sealed, used instead of a scan at open, never trusted when bad. */
class SegmentIndexFileTest {
    private static final UUID SET = UUID.fromString("5e7a0000-0000-4000-8000-0000000001d0");
    private static final long SEGMENT_BYTES = 4096;
    private static final int RECORDS = 200;

    @TempDir
    Path dir;
    private final MovingClock clock = new MovingClock(Instant.parse("2031-05-06T07:08:09Z"), Duration.ofMillis(3));

    @Test
    void everySealedSegmentGetsAnIndexFileAndTheActiveOneNone() throws IOException {
        List<JournalRecord> written = writeRecords();
        List<Path> segments = segmentFiles();
        assertTrue(segments.size() > 5, "rolled into " + segments.size() + " segments");
        long next = 1;
        for (Path segment : segments.subList(0, segments.size() - 1)) {
            SegmentIndexFile.Opened opened = SegmentIndexFile.open(segment, firstSeqOf(segment), Files.size(segment));
            assertNull(opened.problem());
            SegmentIndexFile index = opened.index();
            assertTrue(index.entriesAreIntact());
            assertEquals(firstSeqOf(segment), next);
            for (int i = 0; i < index.count(); i++) {
                JournalRecord r = written.get((int) next - 1);
                assertEquals(r, new JournalRecord(next, index.type(i), index.flags(i), index.member(i), index.offset(i), index.length(i),
                        index.time(i)), "seq " + next);
                next++;
            }
            assertEquals(SegmentIndexFile.HEADER_BYTES + (long) index.count() * SegmentIndexFile.ENTRY_BYTES,
                    Files.size(SegmentIndexFile.pathFor(segment)));
        }
        assertFalse(Files.exists(SegmentIndexFile.pathFor(last(segments))), "the active segment has no index file");
    }

    @Test
    void openReadsNoRecordOfASealedSegmentWithAValidIndex() throws IOException {
        List<JournalRecord> written = writeRecords();
        List<Path> segments = segmentFiles();
        List<Path> sealed = segments.subList(0, segments.size() - 1);
        for (Path segment : sealed) {
            zeroRecords(segment); // same length, every record header and payload gone
        }
        long lastSealedSeq = firstSeqOf(last(segments)) - 1;
        try (Journal journal = open()) {
            assertEquals(RECORDS, journal.lastSeq(), "open did not scan the zeroed sealed segments");
            for (long seq = 1; seq <= RECORDS; seq++) {
                assertEquals(written.get((int) seq - 1), journal.record(seq), "seq " + seq + " answered from the index file");
            }
            long sealedWrite = firstSealedWrite(journal, lastSealedSeq);
            assertThrows(CorruptDataException.class, () -> JournalTest.payload(journal, sealedWrite),
                    "the payload itself is read from the (zeroed) segment and refused");
        }
        Files.delete(SegmentIndexFile.pathFor(sealed.get(0)));
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> open().close(),
                "without its index file the zeroed segment is scanned and refused");
        assertEquals(sealed.get(0), e.file());
    }

    /** Ways an index file can be wrong; each must be noticed and the index rebuilt from its segment. */
    enum Damage {
        MISSING, EMPTY, SHORT, HEADER_BYTE_FLIPPED, ENTRY_BYTE_FLIPPED, COUNT_ONE_LESS, FIRST_SEQ_OF_ANOTHER_SEGMENT, SEGMENT_LENGTH_WRONG
    }

    @ParameterizedTest
    @EnumSource(Damage.class)
    void aBadIndexFileIsRebuiltAndAnswersAsAScanDoes(Damage damage) throws IOException {
        List<JournalRecord> written = writeRecords();
        List<byte[]> payloads = new ArrayList<>();
        try (Journal journal = open()) {
            for (long seq = 1; seq <= RECORDS; seq++) {
                payloads.add(journal.typeOf(seq) == RecordType.WRITE ? JournalTest.payload(journal, seq) : null);
            }
        }
        List<Path> segments = segmentFiles();
        Path victim = segments.get(2);
        Path index = SegmentIndexFile.pathFor(victim);
        byte[] good = Files.readAllBytes(index);
        damage(damage, index, SegmentIndexFile.pathFor(segments.get(1)));

        try (Journal journal = open()) {
            assertEquals(RECORDS, journal.lastSeq());
            for (long seq = 1; seq <= RECORDS; seq++) {
                assertEquals(written.get((int) seq - 1), journal.record(seq), damage + ", seq " + seq);
                if (payloads.get((int) seq - 1) != null) {
                    assertArrayEquals(payloads.get((int) seq - 1), JournalTest.payload(journal, seq), damage + ", seq " + seq);
                }
            }
            assertEquals(RECORDS, journal.verify());
        }
        assertArrayEquals(good, Files.readAllBytes(index), damage + ": the index file is rewritten as it was");
    }

    @Test
    void aStaleIndexOfTheActiveSegmentAndLeftoversOfACrashAreRemovedAtOpen() throws IOException {
        writeRecords();
        List<Path> segments = segmentFiles();
        Path active = last(segments);
        Path staleIndex = SegmentIndexFile.pathFor(active);
        Files.copy(SegmentIndexFile.pathFor(segments.get(0)), staleIndex);
        Path temp = active.resolveSibling(active.getFileName() + ".idx.tmp");
        Files.write(temp, new byte[] {1, 2, 3});
        Path orphan = dir.resolve(String.format("%020d%s%s", 999_999L, JournalSegment.SUFFIX, SegmentIndexFile.SUFFIX));
        Files.copy(SegmentIndexFile.pathFor(segments.get(0)), orphan);
        try (Journal journal = open()) {
            assertEquals(RECORDS, journal.lastSeq());
        }
        assertFalse(Files.exists(staleIndex));
        assertFalse(Files.exists(temp));
        assertFalse(Files.exists(orphan));
        assertTrue(Files.exists(SegmentIndexFile.pathFor(segments.get(0))));
    }

    @Test
    void aSegmentSealedAfterReopenGetsItsIndexFileToo() throws IOException {
        writeRecords();
        int before = segmentFiles().size();
        try (Journal journal = open()) {
            for (int i = 0; i < 100; i++) {
                journal.append(RecordType.WRITE, 0, 0, i * 512L, 200, ByteBuffer.wrap(JournalTest.bytes(i, 200)));
            }
        }
        List<Path> segments = segmentFiles();
        assertTrue(segments.size() > before);
        for (Path segment : segments.subList(0, segments.size() - 1)) {
            assertNotNull(SegmentIndexFile.open(segment, firstSeqOf(segment), Files.size(segment)).index(), segment.toString());
        }
    }

    // ---- helpers ----

    private Journal open() throws IOException {
        return Journal.open(dir, SET, 1, SEGMENT_BYTES, clock);
    }

    private List<JournalRecord> writeRecords() throws IOException {
        List<JournalRecord> written = new ArrayList<>();
        Random random = new Random(0x1D0L);
        try (Journal journal = open()) {
            for (int i = 0; i < RECORDS; i++) {
                RecordType type = RecordType.values()[random.nextInt(3)];
                int length = type == RecordType.WRITE ? 1 + random.nextInt(300) : 512 * (1 + random.nextInt(8));
                ByteBuffer payload = type == RecordType.WRITE ? ByteBuffer.wrap(JournalTest.bytes(i, length)) : null;
                long seq = journal.append(type, random.nextInt(2), random.nextInt(3), random.nextInt(1 << 20) * 512L, length, payload);
                written.add(journal.record(seq));
                if (random.nextInt(10) == 0) {
                    journal.flush();
                }
            }
        }
        return written;
    }

    private static long firstSealedWrite(Journal journal, long lastSealedSeq) {
        for (long seq = 1; seq <= lastSealedSeq; seq++) {
            if (journal.typeOf(seq) == RecordType.WRITE) {
                return seq;
            }
        }
        throw new AssertionError("no WRITE in a sealed segment");
    }

    private static void damage(Damage damage, Path index, Path otherIndex) throws IOException {
        switch (damage) {
            case MISSING -> Files.delete(index);
            case EMPTY -> Files.write(index, new byte[0]);
            case SHORT -> truncate(index, Files.size(index) - 5);
            case HEADER_BYTE_FLIPPED -> JournalTest.flipByte(index, 33);
            case ENTRY_BYTE_FLIPPED -> JournalTest.flipByte(index, SegmentIndexFile.HEADER_BYTES + SegmentIndexFile.ENTRY_BYTES + 9);
            case COUNT_ONE_LESS -> {
                // a well-formed index file (both CRCs right) that forgot the last record
                truncate(index, Files.size(index) - SegmentIndexFile.ENTRY_BYTES);
                rewriteHeader(index, h -> h.putLong(32, h.getLong(32) - 1));
            }
            case FIRST_SEQ_OF_ANOTHER_SEGMENT -> Files.copy(otherIndex, index, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            case SEGMENT_LENGTH_WRONG -> rewriteHeader(index, h -> h.putLong(40, h.getLong(40) + 48));
        }
    }

    private static void rewriteHeader(Path index, java.util.function.Consumer<ByteBuffer> change) throws IOException {
        try (FileChannel c = FileChannel.open(index, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer all = ByteBuffer.allocate((int) c.size()).order(ByteOrder.BIG_ENDIAN);
            c.read(all, 0);
            change.accept(all);
            CRC32C entries = new CRC32C();
            entries.update(all.array(), SegmentIndexFile.HEADER_BYTES, all.capacity() - SegmentIndexFile.HEADER_BYTES);
            all.putInt(48, (int) entries.getValue());
            CRC32C header = new CRC32C();
            header.update(all.array(), 0, 60);
            all.putInt(60, (int) header.getValue());
            c.write(all.clear(), 0);
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.truncate(size);
        }
    }

    private static void zeroRecords(Path segment) throws IOException {
        try (FileChannel c = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = c.size();
            c.write(ByteBuffer.allocate((int) (size - JournalSegment.SEGMENT_HEADER_BYTES)), JournalSegment.SEGMENT_HEADER_BYTES);
        }
    }

    static long firstSeqOf(Path segment) {
        String name = segment.getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - JournalSegment.SUFFIX.length()));
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(JournalSegment.SUFFIX)).sorted().toList();
        }
    }

    private static <T> T last(List<T> list) {
        return list.get(list.size() - 1);
    }
}
