package dev.rewind.increments.journal;

import dev.rewind.testfixtures.clock.MovingClock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random damage to a valid journal directory: bit flips, overwrites, truncations and
 * garbage appended, in sealed and newest segments. Opening must either refuse with
 * {@link CorruptDataException} or succeed with contiguous seqs whose records and payloads are
 * exactly what was written; a record whose bytes were not touched always reads back, and
 * nothing flushed before the first damaged byte is lost. Replay one seed with
 * {@code -Drewind.seed=N}.
 */
class JournalFuzzTest {
    private static final UUID SET = UUID.fromString("f022f022-0000-4000-8000-000000000001");
    private static final long SEGMENT_BYTES = 6 * 1024;
    private static final int HEADER = JournalSegment.RECORD_HEADER_BYTES;

    @TempDir
    Path dir;

    static LongStream seeds() {
        return Seeds.range(0xF0220000L, 100);
    }

    /** Where one original record lives. */
    private record Placed(JournalRecord record, byte[] payload, Path segment, long position, long endPosition) {
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void damagedJournalIsRefusedOrReadsBackExactly(long seed) throws IOException {
        String where = Seeds.describe(seed);
        Random random = new Random(seed);
        List<Placed> originals = writeValidJournal(random);
        List<Path> segments = segmentFiles();
        Path newest = segments.get(segments.size() - 1);

        // damage: per file, the lowest offset whose byte changed or vanished
        Map<Path, Long> firstTouched = new HashMap<>();
        Map<Path, List<long[]>> touched = new HashMap<>();
        int damages = 1 + random.nextInt(3);
        StringBuilder log = new StringBuilder();
        for (int d = 0; d < damages; d++) {
            Path file = random.nextBoolean() ? segments.get(random.nextInt(segments.size())) : newest;
            long size = Files.size(file);
            long from;
            long to;
            switch (random.nextInt(5)) {
                case 0 -> { // bit flips
                    from = pickPosition(file, size, originals, random);
                    to = Math.min(size, from + 1);
                    if (to > from) {
                        flipBit(file, from, random.nextInt(8));
                    }
                    log.append(String.format("flip %s@%d; ", file.getFileName(), from));
                }
                case 1 -> { // overwrite a short run with random bytes
                    from = pickPosition(file, size, originals, random);
                    byte[] junk = new byte[(int) Math.min(size - from, 1 + random.nextInt(64))];
                    random.nextBytes(junk);
                    write(file, from, junk);
                    to = from + junk.length;
                    log.append(String.format("overwrite %s@%d+%d; ", file.getFileName(), from, junk.length));
                }
                case 2 -> { // torn: truncate
                    from = pickPosition(file, size, originals, random);
                    to = size;
                    try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
                        c.truncate(from);
                    }
                    log.append(String.format("truncate %s to %d; ", file.getFileName(), from));
                }
                case 3 -> { // garbage after the end
                    byte[] junk = new byte[1 + random.nextInt(300)];
                    if (random.nextBoolean()) {
                        random.nextBytes(junk);
                    }
                    write(file, size, junk);
                    from = size;
                    to = size + junk.length;
                    log.append(String.format("append %d to %s; ", junk.length, file.getFileName()));
                }
                default -> { // a half-written record: a valid-looking header start, then junk
                    byte[] junk = new byte[1 + random.nextInt(HEADER + 20)];
                    random.nextBytes(junk);
                    if (junk.length >= 4) {
                        ByteBuffer.wrap(junk).putInt(0, JournalSegment.RECORD_MAGIC);
                    }
                    write(file, size, junk);
                    from = size;
                    to = size + junk.length;
                    log.append(String.format("half record %d to %s; ", junk.length, file.getFileName()));
                }
            }
            firstTouched.merge(file, from, Math::min);
            touched.computeIfAbsent(file, f -> new ArrayList<>()).add(new long[] {from, to});
        }
        where += ": " + log;
        Map<Path, byte[]> damaged = new HashMap<>();
        for (Path f : segmentFiles()) {
            damaged.put(f, Files.readAllBytes(f));
        }

        Journal journal;
        try {
            journal = Journal.open(dir, SET, 1, SEGMENT_BYTES, MovingClock.at(Instant.EPOCH));
        } catch (CorruptDataException refused) {
            assertTrue(refused.file() != null && refused.getMessage().contains(refused.file().toString()), where + ": " + refused);
            assertEquals(damaged.keySet(), new java.util.HashSet<>(segmentFiles()), where + ": a refused open removed or added files");
            for (Map.Entry<Path, byte[]> e : damaged.entrySet()) {
                assertArrayEquals(e.getValue(), Files.readAllBytes(e.getKey()), where + ": a refused open changed " + e.getKey());
            }
            return;
        } catch (Throwable other) {
            throw new AssertionError(where + ": open threw " + other + " instead of CorruptDataException", other);
        }

        try (journal) {
            assertEquals(1, journal.firstSeq(), where);
            assertTrue(journal.lastSeq() <= originals.size(), where + ": more records than were written");
            assertEquals(journal.lastSeq(), journal.durableSeq(), where);
            for (Placed p : originals) {
                boolean untouched = !overlaps(touched.get(p.segment()), p.position(), p.endPosition());
                boolean mustSurvive = p.segment().equals(newest)
                        ? p.endPosition() <= firstTouched.getOrDefault(newest, Long.MAX_VALUE)
                        : true; // open succeeded, so every sealed segment was read whole
                long seq = p.record().seq();
                if (seq > journal.lastSeq()) {
                    assertTrue(!mustSurvive, where + ": seq " + seq + " before any damage was lost (last seq " + journal.lastSeq() + ")");
                    continue;
                }
                assertEquals(p.record(), journal.record(seq), where + ": record " + seq);
                if (p.record().type() != RecordType.WRITE) {
                    continue;
                }
                ByteBuffer dst = ByteBuffer.allocate(p.payload().length);
                try {
                    journal.readPayload(seq, dst);
                } catch (CorruptDataException e) {
                    assertTrue(!untouched, where + ": seq " + seq + " was not touched but is refused: " + e.getMessage());
                    continue;
                } catch (Throwable other) {
                    throw new AssertionError(where + ": readPayload(" + seq + ") threw " + other, other);
                }
                assertArrayEquals(p.payload(), dst.array(), where + ": payload of seq " + seq);
            }

            // a recovered journal takes new appends and keeps them
            byte[] next = JournalTest.bytes(seed, 333);
            long seq = journal.append(RecordType.WRITE, 0, 1, 4096, next.length, ByteBuffer.wrap(next));
            assertEquals(journal.lastSeq(), seq, where);
        } catch (CorruptDataException e) {
            fail(where + ": unexpected refusal after a successful open: " + e.getMessage());
        }
        try (Journal again = Journal.open(dir, SET, 1, SEGMENT_BYTES, MovingClock.at(Instant.EPOCH))) {
            byte[] next = JournalTest.bytes(seed, 333);
            assertEquals(0, again.truncatedBytesAtOpen(), where + ": the recovered journal is clean");
            ByteBuffer dst = ByteBuffer.allocate(next.length);
            again.readPayload(again.lastSeq(), dst);
            assertArrayEquals(next, dst.array(), where + ": the append after recovery");
        } catch (CorruptDataException e) {
            fail(where + ": a journal that opened once is refused the second time: " + e.getMessage());
        }
    }

    private List<Placed> writeValidJournal(Random random) throws IOException {
        List<JournalRecord> records = new ArrayList<>();
        List<byte[]> payloads = new ArrayList<>();
        int count = 20 + random.nextInt(60);
        try (Journal journal = Journal.open(dir, SET, 1, SEGMENT_BYTES, new MovingClock(Instant.parse("2030-01-01T00:00:00Z"),
                Duration.ofMillis(3)))) {
            for (int i = 0; i < count; i++) {
                byte[] data = null;
                if (random.nextInt(5) == 0) {
                    journal.append(random.nextBoolean() ? RecordType.TRIM : RecordType.WRITE_ZEROES, 0, random.nextInt(4),
                            random.nextInt(1 << 20), 1 + random.nextInt(1 << 16), null);
                } else {
                    data = new byte[1 + random.nextInt(1200)];
                    random.nextBytes(data);
                    journal.append(RecordType.WRITE, random.nextInt(2), random.nextInt(4), random.nextInt(1 << 20), data.length,
                            ByteBuffer.wrap(data));
                }
                records.add(journal.record(journal.lastSeq()));
                payloads.add(data);
                if (random.nextInt(6) == 0) {
                    journal.flush();
                }
            }
        }
        List<Placed> placed = new ArrayList<>();
        for (Path segment : segmentFiles()) {
            for (long[] h : JournalTest.recordHeaders(segment)) {
                if (h[1] != 0) {
                    int i = (int) h[1] - 1;
                    placed.add(new Placed(records.get(i), payloads.get(i), segment, h[0], h[0] + HEADER + h[2]));
                }
            }
        }
        assertEquals(count, placed.size());
        return placed;
    }

    /** Where damage lands: a quarter in segment headers (half of that in the magic), a quarter in record headers, the rest anywhere. */
    private static long pickPosition(Path file, long size, List<Placed> originals, Random random) {
        if (size == 0) {
            return 0;
        }
        List<Placed> here = originals.stream().filter(p -> p.segment().equals(file) && p.position() < size).toList();
        return switch (random.nextInt(4)) {
            case 0 -> random.nextInt((int) Math.min(size, random.nextBoolean() ? 8 : JournalSegment.SEGMENT_HEADER_BYTES));
            case 1 -> here.isEmpty() ? random.nextInt((int) size)
                    : Math.min(size - 1, here.get(random.nextInt(here.size())).position() + random.nextInt(HEADER));
            default -> (long) (random.nextDouble() * size);
        };
    }

    private static boolean overlaps(List<long[]> ranges, long start, long end) {
        if (ranges == null) {
            return false;
        }
        for (long[] r : ranges) {
            if (r[0] < end && start < r[1]) {
                return true;
            }
        }
        return false;
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(JournalSegment.SUFFIX)).sorted().toList();
        }
    }

    private static void flipBit(Path file, long position, int bit) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            c.read(one, position);
            one.put(0, (byte) (one.get(0) ^ (1 << bit))).rewind();
            c.write(one, position);
        }
    }

    private static void write(Path file, long position, byte[] bytes) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(bytes), position);
        }
    }
}
