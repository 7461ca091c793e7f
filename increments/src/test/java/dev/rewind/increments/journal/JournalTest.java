package dev.rewind.increments.journal;

import dev.rewind.testfixtures.clock.MovingClock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
    private static final UUID SET = UUID.fromString("5e7a0000-0000-4000-8000-000000000001");
    private static final Instant T0 = Instant.parse("2030-01-02T03:04:05.123456Z");
    private static final long BIG_SEGMENT = 1L << 20;
    private static final int HEADER = JournalSegment.RECORD_HEADER_BYTES;
    private static final int SEGMENT_HEADER = JournalSegment.SEGMENT_HEADER_BYTES;

    @TempDir
    Path dir;
    private final MovingClock clock = new MovingClock(T0, Duration.ofMillis(1));

    // ---- append, read, flush, reopen ----

    @Test
    void appendedWritesReadBackWithTheirPayloadsAndFields() throws IOException {
        try (Journal journal = open(BIG_SEGMENT)) {
            assertEquals(1, journal.firstSeq());
            assertEquals(0, journal.lastSeq(), "empty journal");
            byte[] a = bytes(1, 4096);
            byte[] b = bytes(2, 1);
            assertEquals(1, journal.append(RecordType.WRITE, 0, 0, 8192, a.length, ByteBuffer.wrap(a)));
            assertEquals(2, journal.append(RecordType.TRIM, 0, 1, 0, 65536, null));
            assertEquals(3, journal.append(RecordType.WRITE, JournalRecord.FLAG_RESTORE, 7, 123_456_789L, b.length, ByteBuffer.wrap(b)));
            assertEquals(4, journal.append(RecordType.WRITE_ZEROES, 0, 2, 4096, 512, null));

            assertEquals(3, journal.lastSeq() - 1);
            assertArrayEquals(a, payload(journal, 1));
            assertArrayEquals(b, payload(journal, 3));
            JournalRecord r3 = journal.record(3);
            assertEquals(RecordType.WRITE, r3.type());
            assertTrue(r3.isRestore());
            assertEquals(7, r3.memberIndex());
            assertEquals(123_456_789L, r3.offsetBytes());
            assertEquals(1, r3.lengthBytes());
            JournalRecord r2 = journal.record(2);
            assertEquals(new JournalRecord(2, RecordType.TRIM, 0, 1, 0, 65536, r2.timeMicros()), r2);
            assertEquals(RecordType.WRITE_ZEROES, journal.typeOf(4));
            assertEquals(2, journal.memberOf(4));
            assertEquals(4096, journal.offsetOf(4));
            assertEquals(512, journal.lengthOf(4));
        }
    }

    @Test
    void aPayloadBufferIsLeftWhereItWas() throws IOException {
        try (Journal journal = open(BIG_SEGMENT)) {
            ByteBuffer src = ByteBuffer.wrap(bytes(3, 1000));
            journal.append(RecordType.WRITE, 0, 0, 0, 1000, src);
            assertEquals(0, src.position());
            ByteBuffer dst = ByteBuffer.allocate(1010).position(10);
            journal.readPayload(1, dst);
            assertEquals(1010, dst.position(), "readPayload fills from the buffer's position");
        }
    }

    @Test
    void flushMakesDurableSeqReachLastSeq() throws IOException {
        try (Journal journal = open(BIG_SEGMENT)) {
            for (int i = 0; i < 5; i++) {
                journal.append(RecordType.WRITE, 0, 0, i * 512L, 512, ByteBuffer.wrap(bytes(i, 512)));
            }
            assertEquals(0, journal.durableSeq(), "nothing forced yet");
            journal.flush();
            assertEquals(5, journal.durableSeq());
            assertEquals(journal.lastSeq(), journal.durableSeq());
            journal.append(RecordType.TRIM, 0, 0, 0, 512, null);
            assertEquals(5, journal.durableSeq());
            journal.flush();
            assertEquals(6, journal.durableSeq());
        }
    }

    @Test
    void reopenGivesTheSameLastSeqRecordsAndPayloads() throws IOException {
        List<JournalRecord> before = new ArrayList<>();
        List<byte[]> payloads = new ArrayList<>();
        Random random = new Random(7);
        try (Journal journal = open(BIG_SEGMENT)) {
            for (int i = 0; i < 50; i++) {
                appendRandom(journal, random, payloads);
                if (i % 7 == 0) {
                    journal.flush();
                }
            }
            for (long seq = 1; seq <= journal.lastSeq(); seq++) {
                before.add(journal.record(seq));
            }
        }
        try (Journal journal = open(BIG_SEGMENT)) {
            assertEquals(50, journal.lastSeq());
            assertEquals(50, journal.durableSeq(), "what open recovered is durable");
            assertEquals(0, journal.truncatedBytesAtOpen());
            assertRecords(journal, before, payloads);
            assertEquals(50, journal.verify());
        }
    }

    @Test
    void segmentsRollAtTheConfiguredSizeAndSeqsStayContiguous() throws IOException {
        long segmentBytes = 4096;
        List<JournalRecord> records = new ArrayList<>();
        List<byte[]> payloads = new ArrayList<>();
        Random random = new Random(11);
        try (Journal journal = open(segmentBytes)) {
            for (int i = 0; i < 200; i++) {
                appendRandom(journal, random, payloads);
                records.add(journal.record(journal.lastSeq()));
                if (random.nextInt(10) == 0) {
                    journal.flush();
                }
            }
            assertRecords(journal, records, payloads);
        }
        List<Path> segments = segmentFiles();
        assertTrue(segments.size() > 10, "rolled into many segments: " + segments.size());
        long expectedFirst = 1;
        for (Path segment : segments) {
            List<long[]> headers = recordHeaders(segment);
            long numberedEnd = headers.stream().filter(h -> h[1] != 0).mapToLong(h -> h[0] + HEADER + h[2]).max().orElse(0);
            assertTrue(numberedEnd <= segmentBytes, segment + ": numbered records end at " + numberedEnd);
            assertTrue(Files.size(segment) <= segmentBytes + HEADER, segment + " is " + Files.size(segment)
                    + " bytes; only a flush mark may follow the limit");
            long firstSeqInName = Long.parseLong(segment.getFileName().toString().replace(JournalSegment.SUFFIX, ""));
            assertEquals(expectedFirst, firstSeqInName, "segment file names follow on");
            for (long[] h : headers) {
                if (h[1] != 0) { // numbered record
                    assertEquals(expectedFirst++, h[1], segment + " at " + h[0]);
                }
            }
        }
        assertEquals(201, expectedFirst);
        try (Journal journal = open(segmentBytes)) {
            assertEquals(200, journal.lastSeq());
            assertRecords(journal, records, payloads);
        }
    }

    @Test
    void aRecordLargerThanASegmentGetsASegmentOfItsOwn() throws IOException {
        try (Journal journal = open(4096)) {
            journal.append(RecordType.WRITE, 0, 0, 0, 100, ByteBuffer.wrap(bytes(1, 100)));
            journal.append(RecordType.WRITE, 0, 0, 0, 10_000, ByteBuffer.wrap(bytes(2, 10_000)));
            journal.append(RecordType.WRITE, 0, 0, 0, 100, ByteBuffer.wrap(bytes(3, 100)));
            assertArrayEquals(bytes(2, 10_000), payload(journal, 2));
        }
        List<Path> segments = segmentFiles();
        assertEquals(3, segments.size());
        assertEquals(SEGMENT_HEADER + HEADER + 10_000, Files.size(segments.get(1)));
    }

    // ---- time ----

    @Test
    void lastSeqAtOrBeforeFindsTheNewestSeqNotYoungerThanTheTime() throws IOException {
        MovingClock manual = MovingClock.at(T0);
        try (Journal journal = Journal.open(dir, SET, 1, BIG_SEGMENT, manual)) {
            assertEquals(0, journal.lastSeqAtOrBefore(T0.plusSeconds(3600)), "empty journal");
            manual.set(T0.plusSeconds(10));
            journal.append(RecordType.TRIM, 0, 0, 0, 512, null); // 1
            manual.set(T0.plusSeconds(20));
            journal.append(RecordType.TRIM, 0, 0, 0, 512, null); // 2
            manual.set(T0.plusSeconds(30));
            journal.append(RecordType.TRIM, 0, 0, 0, 512, null); // 3
            journal.append(RecordType.TRIM, 0, 0, 0, 512, null); // 4, same microsecond
            manual.set(T0.plusSeconds(5)); // the clock steps back: times never go back
            journal.append(RecordType.TRIM, 0, 0, 0, 512, null); // 5

            assertEquals(T0.plusSeconds(30), journal.record(5).time());
            assertTimeLookups(journal);
        }
        try (Journal journal = Journal.open(dir, SET, 1, BIG_SEGMENT, MovingClock.at(T0))) {
            assertTimeLookups(journal);
            journal.append(RecordType.TRIM, 0, 0, 0, 512, null); // 6, by a clock behind the journal's newest time
            assertEquals(T0.plusSeconds(30), journal.record(6).time(), "times never go back, across a reopen too");
            assertEquals(6, journal.lastSeqAtOrBefore(T0.plusSeconds(30)));
            assertEquals(2, journal.lastSeqAtOrBefore(T0.plusSeconds(20)));
        }
    }

    private static void assertTimeLookups(Journal journal) {
        assertEquals(0, journal.lastSeqAtOrBefore(T0), "every record is younger");
        assertEquals(0, journal.lastSeqAtOrBefore(T0.plusSeconds(10).minusNanos(1000)));
        assertEquals(1, journal.lastSeqAtOrBefore(T0.plusSeconds(10)));
        assertEquals(1, journal.lastSeqAtOrBefore(T0.plusSeconds(15)));
        assertEquals(2, journal.lastSeqAtOrBefore(T0.plusSeconds(20)));
        assertEquals(2, journal.lastSeqAtOrBefore(T0.plusSeconds(30).minusNanos(1000)));
        assertEquals(5, journal.lastSeqAtOrBefore(T0.plusSeconds(30)));
        assertEquals(5, journal.lastSeqAtOrBefore(T0.plusSeconds(3600)));
        assertEquals(T0.plusSeconds(20), journal.record(2).time());
    }

    @Test
    void lastSeqAtOrBeforeWithAFixedClock() throws IOException {
        Instant t = Instant.parse("2031-05-06T07:08:09Z");
        try (Journal journal = Journal.open(dir, SET, 1, BIG_SEGMENT, Clock.fixed(t, java.time.ZoneOffset.UTC))) {
            for (int i = 0; i < 10; i++) {
                journal.append(RecordType.WRITE_ZEROES, 0, 0, 0, 512, null);
            }
            assertEquals(10, journal.lastSeqAtOrBefore(t));
            assertEquals(0, journal.lastSeqAtOrBefore(t.minusNanos(1000)));
            assertEquals(t, journal.record(7).time());
        }
    }

    @Test
    void lastSeqAtOrBeforeWithASteppingClockAcrossManyRecords() throws IOException {
        try (Journal journal = open(64 * 1024)) {
            List<Instant> times = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                journal.append(RecordType.WRITE, 0, 0, 0, 100, ByteBuffer.wrap(bytes(i, 100)));
                times.add(journal.record(journal.lastSeq()).time());
            }
            for (int i = 1; i < times.size(); i++) {
                assertTrue(times.get(i).isAfter(times.get(i - 1)), "a stepping clock gives rising times");
            }
            for (int i = 0; i < times.size(); i++) {
                assertEquals(i + 1, journal.lastSeqAtOrBefore(times.get(i)));
                assertEquals(i, journal.lastSeqAtOrBefore(times.get(i).minusNanos(1000)));
            }
        }
    }

    // ---- torn tails: truncated, the rest survives ----

    @Test
    void aTailTornInsideAPayloadIsTruncatedAtOpen() throws IOException {
        Written w = writeRecords(4096, 60);
        long[] write61 = appendWrite61();
        cutTo(last(segmentFiles()), write61[0] + HEADER + 10);
        assertTornTailTruncated(w, 60, 4096);
    }

    @Test
    void aTailTornInsideARecordHeaderIsTruncatedAtOpen() throws IOException {
        Written w = writeRecords(4096, 60);
        long[] write61 = appendWrite61();
        cutTo(last(segmentFiles()), write61[0] + HEADER / 2);
        assertTornTailTruncated(w, 60, 4096);
    }

    @Test
    void aTailWithACorruptLastPayloadIsTruncatedAtOpen() throws IOException {
        Written w = writeRecords(4096, 60);
        long[] write61 = appendWrite61();
        flipByte(last(segmentFiles()), write61[0] + HEADER + 500);
        assertTornTailTruncated(w, 60, 4096);
    }

    /** Appends WRITE 61 of 1000 bytes (and, on close, a flush mark); returns its header as {@link #recordHeaders} does. */
    private long[] appendWrite61() throws IOException {
        try (Journal journal = open(4096)) {
            assertEquals(61, journal.append(RecordType.WRITE, 0, 0, 0, 1000, ByteBuffer.wrap(bytes(61, 1000))));
        }
        return recordHeaders(last(segmentFiles())).stream().filter(h -> h[1] == 61).findFirst().orElseThrow();
    }

    @Test
    void garbageAfterTheLastRecordIsTruncatedAtOpen() throws IOException {
        Written w = writeRecords(4096, 60);
        Path newest = last(segmentFiles());
        long size = Files.size(newest);
        byte[] garbage = bytes(99, 300);
        try (FileChannel c = FileChannel.open(newest, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            c.write(ByteBuffer.wrap(garbage));
        }
        try (Journal journal = open(4096)) {
            assertEquals(60, journal.lastSeq());
            assertEquals(garbage.length, journal.truncatedBytesAtOpen());
            assertRecords(journal, w.records, w.payloads);
        }
        assertEquals(size, Files.size(newest), "the garbage is gone from the file");
    }

    @Test
    void zeroesAfterTheLastRecordAreTruncatedAtOpen() throws IOException {
        Written w = writeRecords(4096, 30);
        Path newest = last(segmentFiles());
        long size = Files.size(newest);
        try (FileChannel c = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.allocate(1), size + 4095); // a file system that grew the file but never wrote the data
        }
        try (Journal journal = open(4096)) {
            assertEquals(30, journal.lastSeq());
            assertRecords(journal, w.records, w.payloads);
        }
        assertEquals(size, Files.size(newest));
    }

    @Test
    void aHalfWrittenHeaderOfANewSegmentIsRemovedAtOpen() throws IOException {
        Written w = writeRecords(4096, 60);
        Path torn = JournalSegment.fileFor(dir, 61);
        byte[] header = new byte[SEGMENT_HEADER];
        System.arraycopy(Files.readAllBytes(segmentFiles().get(0)), 0, header, 0, 30); // magic, version and half the UUID
        Files.write(torn, java.util.Arrays.copyOf(header, 30));
        try (Journal journal = open(4096)) {
            assertEquals(60, journal.lastSeq());
            assertEquals(30, journal.truncatedBytesAtOpen());
            assertRecords(journal, w.records, w.payloads);
            byte[] next = bytes(61, 3000);
            assertEquals(61, journal.append(RecordType.WRITE, 0, 0, 0, next.length, ByteBuffer.wrap(next)));
            journal.append(RecordType.WRITE, 0, 0, 0, next.length, ByteBuffer.wrap(next)); // rolls into a new 62 segment
        }
        try (Journal journal = open(4096)) {
            assertEquals(62, journal.lastSeq());
            assertArrayEquals(bytes(61, 3000), payload(journal, 61));
        }
    }

    @Test
    void aSegmentHeaderOfOnlyZeroesInTheNewestFileIsRemovedAtOpen() throws IOException {
        Written w = writeRecords(4096, 20);
        Path torn = JournalSegment.fileFor(dir, 21);
        Files.write(torn, new byte[SEGMENT_HEADER]); // size made durable, data not
        try (Journal journal = open(4096)) {
            assertEquals(20, journal.lastSeq());
            assertRecords(journal, w.records, w.payloads);
        }
    }

    @Test
    void appendingAfterATruncatedTailContinuesTheSequence() throws IOException {
        Written w = writeRecords(4096, 40);
        Path newest = last(segmentFiles());
        long[] lastRecord = last(recordHeaders(newest));
        cutTo(newest, lastRecord[0] + 5);
        long survivors;
        try (Journal journal = open(4096)) {
            survivors = journal.lastSeq();
            byte[] next = bytes(1234, 777);
            assertEquals(survivors + 1, journal.append(RecordType.WRITE, 0, 3, 42, next.length, ByteBuffer.wrap(next)));
        }
        try (Journal journal = open(4096)) {
            assertEquals(survivors + 1, journal.lastSeq());
            assertEquals(0, journal.truncatedBytesAtOpen());
            assertArrayEquals(bytes(1234, 777), payload(journal, survivors + 1));
            assertRecords(journal, w.records.subList(0, (int) survivors), w.payloads);
        }
    }

    private void assertTornTailTruncated(Written w, long expectedLastSeq, long segmentBytes) throws IOException {
        try (Journal journal = open(segmentBytes)) {
            assertEquals(expectedLastSeq, journal.lastSeq(), "records before the tear survive, the torn one is gone");
            assertTrue(journal.truncatedBytesAtOpen() > 0);
            assertRecords(journal, w.records.subList(0, (int) expectedLastSeq), w.payloads);
        }
    }

    // ---- corruption: refused with file and offset ----

    @Test
    void aCorruptRecordHeaderInASealedSegmentIsRefusedByVerifyAndAtOpenWhenItsIndexMustBeRebuilt() throws IOException {
        writeRecords(4096, 60);
        Path sealed = segmentFiles().get(1);
        long[] second = recordHeaders(sealed).get(1);
        flipByte(sealed, second[0] + 20); // inside the time field, under the header CRC

        try (Journal journal = open(4096)) {
            assertEquals(60, journal.lastSeq(), "a sealed segment with a valid index file is not scanned at open");
            CorruptDataException v = assertThrows(CorruptDataException.class, journal::verify);
            assertEquals(sealed, v.file());
            assertEquals(second[0], v.offsetBytes());
        }
        Files.delete(SegmentIndexFile.pathFor(sealed));
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> open(4096).close());
        assertEquals(sealed, e.file());
        assertEquals(second[0], e.offsetBytes());
        assertTrue(e.getMessage().contains(sealed.toString()) && e.getMessage().contains("offset " + second[0]), e.getMessage());
        assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
    }

    @Test
    void aSealedSegmentCutShortIsRefusedAtOpen() throws IOException {
        writeRecords(4096, 60);
        Path sealed = segmentFiles().get(0);
        long[] lastInSealed = last(recordHeaders(sealed));
        cutTo(sealed, lastInSealed[0] + HEADER + 1);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> open(4096).close());
        assertEquals(sealed, e.file());
        assertEquals(lastInSealed[0], e.offsetBytes());
    }

    @Test
    void aCorruptPayloadInASealedSegmentIsRefusedWhenRead() throws IOException {
        Written w = writeRecords(4096, 60);
        Path sealed = segmentFiles().get(1);
        long[] victim = recordHeaders(sealed).stream().filter(h -> h[2] > 0).findFirst().orElseThrow();
        flipByte(sealed, victim[0] + HEADER + victim[2] / 2);

        try (Journal journal = open(4096)) {
            assertEquals(60, journal.lastSeq(), "open checks headers; the payload is checked when read");
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> payload(journal, victim[1]));
            assertEquals(sealed, e.file());
            assertEquals(victim[0] + HEADER, e.offsetBytes());
            assertTrue(e.getMessage().contains("CRC32C expected"), e.getMessage());
            for (long seq = 1; seq <= 60; seq++) {
                if (seq != victim[1] && journal.typeOf(seq) == RecordType.WRITE) {
                    assertArrayEquals(w.payloads.get((int) seq - 1), payload(journal, seq), "seq " + seq);
                }
            }
            assertThrows(CorruptDataException.class, journal::verify);
        }
    }

    @Test
    void aCorruptHeaderOfASealedSegmentIsRefusedAtOpen() throws IOException {
        writeRecords(4096, 60);
        Path sealed = segmentFiles().get(0);
        flipByte(sealed, 40); // creation time, under the segment header's CRC
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> open(4096).close());
        assertEquals(sealed, e.file());
    }

    @Test
    void aCorruptHeaderOfTheNewestSegmentHoldingRecordsIsRefusedNotDeleted() throws IOException {
        writeRecords(4096, 60);
        Path newest = last(segmentFiles());
        assertTrue(Files.size(newest) > SEGMENT_HEADER, "the newest segment holds records");
        byte[] before = Files.readAllBytes(newest);
        flipByte(newest, 40);
        byte[] corrupt = Files.readAllBytes(newest);

        CorruptDataException e = assertThrows(CorruptDataException.class, () -> open(4096).close(),
                "records written and flushed after a header that was forced are not a torn write");
        assertEquals(newest, e.file());
        assertArrayEquals(corrupt, Files.readAllBytes(newest), "the segment is left for inspection");
        assertEquals(before.length, corrupt.length);
    }

    @Test
    void aSegmentOfAnotherSetIsRefused() throws IOException {
        writeRecords(4096, 30);
        UUID other = UUID.fromString("5e7a0000-0000-4000-8000-000000000002");
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> Journal.open(dir, other, 1, 4096, clock).close());
        assertTrue(e.getMessage().contains("belongs to set " + SET) && e.getMessage().contains(other.toString()), e.getMessage());
        assertEquals(segmentFiles().get(0), e.file());
    }

    @Test
    void aForeignSegmentDroppedAmongOursIsRefused(@TempDir Path otherDir) throws IOException {
        Written w = writeRecords(4096, 30);
        UUID otherSet = UUID.fromString("5e7a0000-0000-4000-8000-000000000003");
        try (Journal foreign = Journal.open(otherDir, otherSet, 31, 4096, clock)) {
            foreign.append(RecordType.WRITE, 0, 0, 0, 100, ByteBuffer.wrap(bytes(5, 100)));
        }
        Path intruder = JournalSegment.fileFor(dir, 31);
        Files.copy(JournalSegment.fileFor(otherDir, 31), intruder);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> open(4096).close());
        assertEquals(intruder, e.file());
        assertTrue(e.getMessage().contains("belongs to set " + otherSet), e.getMessage());
        Files.delete(intruder);
        try (Journal journal = open(4096)) {
            assertRecords(journal, w.records, w.payloads);
        }
    }

    @Test
    void aGapBetweenSegmentsIsRefused() throws IOException {
        writeRecords(4096, 60);
        List<Path> segments = segmentFiles();
        Files.delete(segments.get(1));
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> open(4096).close());
        assertEquals(segments.get(2), e.file());
        assertTrue(e.getMessage().contains("starts at seq"), e.getMessage());
    }

    // ---- helpers ----

    private Journal open(long segmentBytes) throws IOException {
        return Journal.open(dir, SET, 1, segmentBytes, clock);
    }

    /** What was appended: records by seq - 1, and WRITE payloads by seq - 1 (null for others). */
    private record Written(List<JournalRecord> records, List<byte[]> payloads) {
    }

    private Written writeRecords(long segmentBytes, int count) throws IOException {
        List<JournalRecord> records = new ArrayList<>();
        List<byte[]> payloads = new ArrayList<>();
        Random random = new Random(count * 31L + segmentBytes);
        try (Journal journal = open(segmentBytes)) {
            for (int i = 0; i < count; i++) {
                appendRandom(journal, random, payloads);
                records.add(journal.record(journal.lastSeq()));
                if (random.nextInt(5) == 0) {
                    journal.flush();
                }
            }
        }
        return new Written(records, payloads);
    }

    private static void appendRandom(Journal journal, Random random, List<byte[]> payloads) throws IOException {
        int member = random.nextInt(3);
        long offset = random.nextInt(1 << 20);
        if (random.nextInt(4) == 0) {
            RecordType type = random.nextBoolean() ? RecordType.TRIM : RecordType.WRITE_ZEROES;
            journal.append(type, 0, member, offset, 1 + random.nextInt(1 << 16), null);
            payloads.add(null);
        } else {
            byte[] data = new byte[1 + random.nextInt(1500)];
            random.nextBytes(data);
            journal.append(RecordType.WRITE, random.nextInt(2), member, offset, data.length, ByteBuffer.wrap(data));
            payloads.add(data);
        }
    }

    private static void assertRecords(Journal journal, List<JournalRecord> expected, List<byte[]> payloads) throws IOException {
        for (JournalRecord r : expected) {
            assertEquals(r, journal.record(r.seq()), "record " + r.seq());
            if (r.type() == RecordType.WRITE) {
                assertArrayEquals(payloads.get((int) r.seq() - 1), payload(journal, r.seq()), "payload of seq " + r.seq());
            }
        }
    }

    static byte[] payload(Journal journal, long seq) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(journal.lengthOf(seq));
        journal.readPayload(seq, dst);
        assertEquals(dst.capacity(), dst.position());
        return dst.array();
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(JournalSegment.SUFFIX)).sorted().toList();
        }
    }

    /**
     * Walks a segment by the documented layout: per record {position, seq, payloadBytes}.
     * seq is 0 for marks.
     */
    static List<long[]> recordHeaders(Path segment) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segment));
        List<long[]> out = new ArrayList<>();
        int pos = SEGMENT_HEADER;
        while (pos + HEADER <= b.capacity()) {
            int payloadBytes = b.getInt(pos + 36);
            out.add(new long[] {pos, b.getLong(pos + 8), payloadBytes});
            pos += HEADER + payloadBytes;
        }
        return out;
    }

    private static <T> T last(List<T> list) {
        return list.get(list.size() - 1);
    }

    private static void cutTo(Path file, long size) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.truncate(size);
        }
    }

    static void flipByte(Path file, long position) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            c.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            c.write(one, position);
        }
    }

    static byte[] bytes(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }
}
