package dev.rewind.volumeset.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.seed.Seeds;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link StableFileChannel}: interrupts neither close it nor lose bytes, and every caller's
 * interrupt flag comes back as it was. Replay one seed: {@code -Drewind.seed=N}.
 */
class StableFileChannelTest {
    private static final int THREADS = 4;
    private static final int BLOCK = 4096;
    private static final int BLOCKS_PER_THREAD = 64;
    private static final int OPS_PER_THREAD = 1500;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x57AB_1E00L, 6);
    }

    /**
     * Threads write, read back and force their own blocks of one channel while another thread
     * interrupts them in a loop; some operations start with the caller's own flag set. A plain
     * {@code FileChannel} is closed by the first interrupt and fails this test.
     */
    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void interruptedThreadsHammeringOneChannelLoseNothing(long seed) throws Exception {
        Path file = tmp.resolve("f");
        byte[][] model = new byte[THREADS * BLOCKS_PER_THREAD][];
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean writersDone = new AtomicBoolean();
        try (StableFileChannel c = StableFileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                Random r = new Random(seed * 31 + t);
                writers.add(new Thread(() -> hammer(c, r, thread, model, failures, seed), "writer-" + t));
            }
            Random ri = new Random(seed);
            Thread interrupter = new Thread(() -> {
                while (!writersDone.get()) {
                    writers.get(ri.nextInt(THREADS)).interrupt();
                    Thread.onSpinWait();
                }
            }, "interrupter");
            writers.forEach(Thread::start);
            interrupter.start();
            for (Thread w : writers) {
                w.join();
            }
            writersDone.set(true);
            interrupter.join();

            assertTrue(failures.isEmpty(), Seeds.describe(seed) + ": " + failures.peek());
            assertTrue(c.isOpen(), Seeds.describe(seed) + ": the channel was closed");
            c.force(true);
            for (int b = 0; b < model.length; b++) {
                ByteBuffer got = ByteBuffer.allocate(BLOCK);
                readFully(c, got, (long) b * BLOCK);
                assertArrayEquals(model[b] == null ? new byte[BLOCK] : model[b], got.array(),
                        Seeds.describe(seed) + ": block " + b + " after the run");
            }
        }
        try (FileChannel plain = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int b = 0; b < model.length; b++) {
                ByteBuffer got = ByteBuffer.allocate(BLOCK);
                readFully(plain, got, (long) b * BLOCK);
                assertArrayEquals(model[b] == null ? new byte[BLOCK] : model[b], got.array(),
                        Seeds.describe(seed) + ": block " + b + " read through a new descriptor");
            }
        }
    }

    private static void hammer(StableFileChannel c, Random r, int thread, byte[][] model, ConcurrentLinkedQueue<String> failures, long seed) {
        try {
            for (int op = 0; op < OPS_PER_THREAD && failures.isEmpty(); op++) {
                int block = thread * BLOCKS_PER_THREAD + r.nextInt(BLOCKS_PER_THREAD);
                boolean selfInterrupt = r.nextInt(4) == 0;
                if (selfInterrupt) {
                    Thread.currentThread().interrupt();
                }
                int kind = r.nextInt(10);
                if (kind < 5) {
                    byte[] data = new byte[BLOCK];
                    r.nextBytes(data);
                    writeFully(c, ByteBuffer.wrap(data), (long) block * BLOCK);
                    model[block] = data;
                } else if (kind < 9) {
                    ByteBuffer got = ByteBuffer.allocate(BLOCK);
                    readFully(c, got, (long) block * BLOCK);
                    byte[] expected = model[block] == null ? new byte[BLOCK] : model[block];
                    if (!java.util.Arrays.equals(expected, got.array())) {
                        failures.add(Seeds.describe(seed) + ": thread " + thread + " op " + op + " read wrong bytes in block " + block);
                    }
                } else {
                    c.force(r.nextBoolean());
                }
                if (selfInterrupt && !Thread.currentThread().isInterrupted()) {
                    failures.add(Seeds.describe(seed) + ": thread " + thread + " op " + op + " lost the caller's interrupt flag");
                }
                if (r.nextBoolean()) {
                    Thread.interrupted(); // what the interrupter set is the caller's business; start the next op clean or not
                }
            }
        } catch (IOException | RuntimeException e) {
            failures.add(Seeds.describe(seed) + ": thread " + thread + ": " + e);
        }
    }

    @Test
    void anInterruptedCallerKeepsItsFlagAndTheChannelStaysOpen() throws IOException {
        try (StableFileChannel c = StableFileChannel.open(tmp.resolve("g"), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            Thread.currentThread().interrupt();
            try {
                writeFully(c, ByteBuffer.wrap(new byte[] {1, 2, 3}), 10);
                c.force(true);
                assertTrue(Thread.currentThread().isInterrupted(), "the caller's interrupt flag was cleared");
            } finally {
                Thread.interrupted();
            }
            assertTrue(c.isOpen());
            assertFalse(Thread.currentThread().isInterrupted(), "an interrupt appeared that nobody sent");
            writeFully(c, ByteBuffer.wrap(new byte[] {4}), 13);
            ByteBuffer got = ByteBuffer.allocate(4);
            readFully(c, got, 10);
            assertArrayEquals(new byte[] {1, 2, 3, 4}, got.array());
            assertEquals(14, c.size());
            assertEquals(0, c.reopenCount(), "nothing should have needed a reopen");
        }
    }

    /** What an interrupt arriving during an operation does: the JDK closes the descriptor under every thread. */
    @Test
    void aDescriptorClosedUnderneathIsReopenedAndTheWriteRetried() throws IOException {
        Path file = tmp.resolve("h");
        try (StableFileChannel c = StableFileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            writeFully(c, ByteBuffer.wrap(new byte[] {9, 9}), 0);
            c.underlying().close();
            ByteBuffer src = ByteBuffer.wrap(new byte[] {7, 8});
            writeFully(c, src, 2);
            assertEquals(1, c.reopenCount());
            c.force(true);
            assertArrayEquals(new byte[] {9, 9, 7, 8}, Files.readAllBytes(file));
            c.underlying().close();
            assertEquals(4, c.size(), "size after a second reopen");
            assertEquals(2, c.reopenCount());
        }
    }

    @Test
    void theOwnersCloseIsFinal() throws IOException {
        StableFileChannel c = StableFileChannel.open(tmp.resolve("i"), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        c.close();
        assertThrows(ClosedChannelException.class, () -> c.write(ByteBuffer.allocate(1), 0));
        assertThrows(ClosedChannelException.class, () -> c.force(true));
        assertEquals(0, c.reopenCount());
    }

    @Test
    void aReopenRefusesAFileReplacedAtThePath() throws IOException {
        Path file = tmp.resolve("j");
        try (StableFileChannel c = StableFileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            Files.delete(file);
            Files.write(file, new byte[] {1});
            c.underlying().close();
            IOException e = assertThrows(IOException.class, () -> c.write(ByteBuffer.allocate(1), 0));
            assertTrue(e.getMessage().contains("was replaced"), e.getMessage());
        }
    }

    @Test
    void relativeWritesAndReadsKeepTheirOwnPositionAcrossAReopen() throws IOException {
        Path file = tmp.resolve("k");
        try (StableFileChannel c = StableFileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(new byte[] {1, 2}));
            c.underlying().close();
            c.write(ByteBuffer.wrap(new byte[] {3}));
            assertEquals(3, c.position());
            c.position(1);
            ByteBuffer got = ByteBuffer.allocate(2);
            assertEquals(2, c.read(got));
            assertArrayEquals(new byte[] {2, 3}, got.array());
        }
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(file), "the reopen must not truncate again");
    }

    private static void writeFully(FileChannel c, ByteBuffer src, long position) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += c.write(src, pos);
        }
    }

    private static void readFully(FileChannel c, ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int n = c.read(dst, position + dst.position());
            if (n < 0) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
            }
        }
    }
}
