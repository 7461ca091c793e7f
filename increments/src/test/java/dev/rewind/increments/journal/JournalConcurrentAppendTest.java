package dev.rewind.increments.journal;

import dev.rewind.testfixtures.seed.Seeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Appends split into reserve (seq order, under the lock) and write (any order, outside it):
 * a hole left by a reservation that was never written, flushes that must wait for holes below
 * them, failures that end the journal, and many threads appending and flushing at once.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=50}.
 */
class JournalConcurrentAppendTest {
    private static final UUID SET = UUID.fromString("5e7a0000-0000-4000-8000-000000000002");
    private static final int HEADER = JournalSegment.RECORD_HEADER_BYTES;

    @TempDir
    Path dir;
    @TempDir
    Path crashCopy;

    static LongStream seeds() {
        return Seeds.range(1, 12);
    }

    private static Journal open(Path d, long segmentBytes) throws IOException {
        return Journal.open(d, SET, 1, segmentBytes, Clock.systemUTC());
    }

    private static byte[] bytes(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void aHoleLeftByAnUnwrittenReservationIsTruncatedAsATornTailAtOpen() throws IOException {
        long holePosition;
        try (Journal journal = open(dir, 1 << 20)) {
            journal.append(RecordType.WRITE, 0, 0, 0, 4096, ByteBuffer.wrap(bytes(1, 4096)));
            journal.append(RecordType.WRITE, 0, 0, 4096, 4096, ByteBuffer.wrap(bytes(2, 4096)));
            journal.flush();
            Journal.Reservation hole = journal.reserve(RecordType.WRITE, 0, 0, 8192, 4096);
            assertEquals(3, hole.seq());
            holePosition = JournalSegment.SEGMENT_HEADER_BYTES + 2L * (HEADER + 4096) + HEADER; // after the flush mark
            journal.append(RecordType.WRITE, 0, 0, 12288, 4096, ByteBuffer.wrap(bytes(4, 4096)));
            journal.append(RecordType.TRIM, 0, 0, 0, 512, null);
            assertEquals(2, journal.lastSeq(), "the written seq stops before the hole");
            assertEquals(5, journal.reservedSeq());
            copySegments(dir, crashCopy); // what a kill -9 now would leave on disk
            journal.write(hole, ByteBuffer.wrap(bytes(3, 4096)));
            assertEquals(5, journal.lastSeq(), "filling the hole makes every later record count");
        }
        Path segment = onlySegment(crashCopy);
        ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(segment));
        for (int i = 0; i < HEADER; i++) {
            assertEquals(0, file.get((int) holePosition + i), "the hole reads as zeros");
        }
        assertEquals(JournalSegment.RECORD_MAGIC, file.getInt((int) holePosition + HEADER + 4096), "a valid record follows the hole");
        assertEquals(4, file.getLong((int) holePosition + HEADER + 4096 + 8));

        try (Journal recovered = open(crashCopy, 1 << 20)) {
            assertEquals(2, recovered.lastSeq(), "recovery truncates at the hole; what follows it was never flushed");
            assertEquals(file.capacity() - holePosition, recovered.truncatedBytesAtOpen());
            assertArrayEquals(bytes(1, 4096), JournalTest.payload(recovered, 1));
            assertArrayEquals(bytes(2, 4096), JournalTest.payload(recovered, 2));
            assertEquals(3, recovered.append(RecordType.WRITE, 0, 0, 0, 4096, ByteBuffer.wrap(bytes(30, 4096))));
        }
        try (Journal again = open(crashCopy, 1 << 20)) {
            assertEquals(3, again.lastSeq());
            assertEquals(0, again.truncatedBytesAtOpen());
            assertArrayEquals(bytes(30, 4096), JournalTest.payload(again, 3));
        }
        try (Journal complete = open(dir, 1 << 20)) {
            assertEquals(5, complete.lastSeq(), "without the crash, the filled hole and the records after it are all there");
            assertArrayEquals(bytes(3, 4096), JournalTest.payload(complete, 3));
        }
    }

    @Test
    void aFlushWaitsForAnUnwrittenRecordBeforeTheFlushedSeq() throws Exception {
        try (Journal journal = open(dir, 1 << 20)) {
            Journal.Reservation hole = journal.reserve(RecordType.WRITE, 0, 0, 0, 512);
            journal.append(RecordType.WRITE, 0, 0, 512, 512, ByteBuffer.wrap(bytes(2, 512)));
            CompletableFuture<Void> flush = CompletableFuture.runAsync(() -> {
                try {
                    journal.flushTo(2);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(200); // give a wrong implementation the time to acknowledge too early
            assertFalse(flush.isDone(), "a flush up to seq 2 returned while seq 1 was not written");
            assertEquals(0, journal.durableSeq());
            journal.write(hole, ByteBuffer.wrap(bytes(1, 512)));
            flush.get(60, TimeUnit.SECONDS);
            assertTrue(journal.durableSeq() >= 2);
        }
    }

    @Test
    void anAbandonedReservationEndsWritingAndEveryLaterFlushFails() throws IOException {
        Journal journal = open(dir, 1 << 20);
        journal.append(RecordType.WRITE, 0, 0, 0, 512, ByteBuffer.wrap(bytes(1, 512)));
        journal.flush();
        Journal.Reservation r = journal.reserve(RecordType.WRITE, 0, 0, 512, 512);
        journal.append(RecordType.WRITE, 0, 0, 1024, 512, ByteBuffer.wrap(bytes(3, 512)));
        journal.abandon(r, new IOException("disk gone"));
        IOException flush = assertThrows(IOException.class, journal::flush);
        assertTrue(flush.getMessage().contains("disk gone"), flush.getMessage());
        assertThrows(IOException.class, () -> journal.append(RecordType.TRIM, 0, 0, 0, 512, null));
        assertEquals(1, journal.durableSeq(), "nothing after the failure is claimed durable");
        assertThrows(IOException.class, journal::close);
        try (Journal reopened = open(dir, 1 << 20)) {
            assertEquals(1, reopened.lastSeq());
        }
    }

    /**
     * Several threads append random records (some segments roll under them) and flush at random;
     * every seq a flush returned for must be durable, and after a clean close every record reads
     * back with the payload its writer gave it. A copy taken at a random moment opens to a prefix.
     */
    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void concurrentAppendsAndFlushesKeepEverySeqWithItsPayload(long seed) throws Exception {
        String replay = Seeds.describe(seed);
        Random random = new Random(seed);
        int threads = 2 + random.nextInt(5);
        int perThread = 50 + random.nextInt(150);
        int copyAfter = random.nextInt(threads * perThread);
        Map<Long, byte[]> payloads = new ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicInteger appended = new java.util.concurrent.atomic.AtomicInteger();
        try (Journal journal = open(dir, 64 << 10)) {
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long threadSeed = random.nextLong();
                workers.add(CompletableFuture.runAsync(() -> {
                    Random r = new Random(threadSeed);
                    try {
                        for (int i = 0; i < perThread; i++) {
                            byte[] data = bytes(r.nextLong(), 1 + r.nextInt(9000));
                            long seq = journal.append(RecordType.WRITE, 0, r.nextInt(3), r.nextInt(1 << 20), data.length, ByteBuffer.wrap(data));
                            payloads.put(seq, data);
                            if (r.nextInt(8) == 0) {
                                journal.flushTo(seq);
                                if (journal.durableSeq() < seq) {
                                    throw new AssertionError(replay + ": flushTo(" + seq + ") returned at durable seq " + journal.durableSeq());
                                }
                            }
                            if (appended.incrementAndGet() == copyAfter) {
                                // Holding the journal's reserve lock: no new record, mark or segment while copying,
                                // so the copy is what a kill -9 at this instant would leave (records in flight may
                                // land in it or not, as they would).
                                synchronized (journal) {
                                    copySegments(dir, crashCopy);
                                }
                            }
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            for (CompletableFuture<Void> w : workers) {
                w.get(5, TimeUnit.MINUTES);
            }
            assertEquals(threads * perThread, journal.lastSeq(), replay);
        }
        try (Journal reopened = open(dir, 64 << 10)) {
            assertEquals(threads * perThread, reopened.lastSeq(), replay);
            for (long seq = 1; seq <= reopened.lastSeq(); seq++) {
                assertArrayEquals(payloads.get(seq), JournalTest.payload(reopened, seq), replay + ": payload of seq " + seq);
            }
        }
        if (copyAfter > 0) {
            try (Journal copy = open(crashCopy, 64 << 10)) {
                for (long seq = 1; seq <= copy.lastSeq(); seq++) {
                    assertArrayEquals(payloads.get(seq), JournalTest.payload(copy, seq), replay + ": copy, payload of seq " + seq);
                }
            }
        }
    }

    private static void copySegments(Path from, Path to) {
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.filter(p -> p.toString().endsWith(JournalSegment.SUFFIX)).sorted().toList()) {
                try (FileChannel in = FileChannel.open(p, StandardOpenOption.READ);
                     FileChannel out = FileChannel.open(to.resolve(p.getFileName()), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                             StandardOpenOption.TRUNCATE_EXISTING)) {
                    long size = in.size();
                    long done = 0;
                    while (done < size) {
                        done += in.transferTo(done, size - done, out);
                    }
                }
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static Path onlySegment(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            List<Path> files = s.filter(p -> p.toString().endsWith(JournalSegment.SUFFIX)).toList();
            assertEquals(1, files.size());
            return files.get(0);
        }
    }
}
