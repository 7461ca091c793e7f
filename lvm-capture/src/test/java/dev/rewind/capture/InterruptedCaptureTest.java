package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Interrupts do not break a set: writer threads capture seeded random writes, write-zeroes,
 * FUA writes and flushes through the set's devices while another thread interrupts them in a
 * loop. Afterwards the set still takes writes and flushes, closes, reopens with no recovery
 * needed, and clones at several seqs equal the model (Invariant 3). Before the set's files
 * were opened through {@code StableFileChannel}, the first interrupt inside capture I/O closed
 * a journal, dirty-region or primary channel for every thread and this test failed.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=20}.
 */
class InterruptedCaptureTest {
    private static final long KIB = 1024;
    private static final long[] SIZES = {256 * KIB, 192 * KIB};
    private static final int WRITERS = 3;
    private static final int OPS_PER_WRITER = 300;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x1A7E_0001L, 4);
    }

    /** One captured event and the seq the set gave it; data null means zeros. */
    private record Event(long seq, int member, long offset, int length, byte[] data) {
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void interruptedWritersLeaveTheSetWorkingAndExact(long seed) throws Exception {
        String at = Seeds.describe(seed);
        ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        try (TestSet t = TestSet.create(tmp.resolve("set"), "s", SIZES)) {
            try (CapturedSet set = t.open()) {
                List<Thread> writers = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    Random r = new Random(seed * 131 + w);
                    writers.add(new Thread(() -> capture(set, r, events, failures), "writer-" + w));
                }
                AtomicBoolean done = new AtomicBoolean();
                Random ri = new Random(seed);
                Thread interrupter = new Thread(() -> {
                    while (!done.get()) {
                        writers.get(ri.nextInt(WRITERS)).interrupt();
                        Thread.onSpinWait();
                    }
                }, "interrupter");
                writers.forEach(Thread::start);
                interrupter.start();
                for (Thread w : writers) {
                    w.join();
                }
                done.set(true);
                interrupter.join();
                assertTrue(failures.isEmpty(), at + ": a writer failed: " + failures.peek());

                byte[] last = filled(4096, (byte) 0x5A);
                long seq = set.device("m0").write(0, ByteBuffer.wrap(last), false);
                set.flush();
                events.add(new Event(seq, 0, 0, last.length, last));
                assertEquals(seq, set.flushedSeq(), at + ": the flush after the run");
            }

            TreeMap<Long, ImageModel> model = modelBySeq(events);
            try (CapturedSet set = t.open()) {
                assertTrue(set.recovery().wasClean(), at + ": reopen after a clean close needed recovery: " + set.recovery());
                assertEquals(model.lastKey(), set.lastSeq(), at + ": last seq after reopen");
                model.lastEntry().getValue().assertPrimaryEquals(set, at + ", primary after reopen");
                Random r = new Random(seed ^ 0x5EED);
                List<Long> seqs = new ArrayList<>(model.keySet());
                List<Long> targets = List.of(seqs.get(r.nextInt(seqs.size())), seqs.get(r.nextInt(seqs.size())),
                        seqs.get(seqs.size() / 2), model.lastKey());
                for (int i = 0; i < targets.size(); i++) {
                    long target = targets.get(i);
                    Path dir = tmp.resolve("clone" + i);
                    set.cloneTo(target, dir, ProgressListener.NONE);
                    model.get(target).assertCloneEquals(set, dir, at + ", clone at seq " + target);
                }
            }
        }
    }

    /** One writer: random writes, write-zeroes and flushes, each event recorded with its seq. */
    private static void capture(CapturedSet set, Random r, ConcurrentLinkedQueue<Event> events, ConcurrentLinkedQueue<Throwable> failures) {
        try {
            for (int op = 0; op < OPS_PER_WRITER && failures.isEmpty(); op++) {
                int member = r.nextInt(SIZES.length);
                int length = (1 + r.nextInt(4)) * ImageModel.PAGE;
                long offset = (long) r.nextInt((int) ((SIZES[member] - length) / ImageModel.PAGE + 1)) * ImageModel.PAGE;
                var device = set.devices().get(member);
                int kind = r.nextInt(20);
                if (kind < 15) {
                    byte[] data = new byte[length];
                    r.nextBytes(data);
                    long seq = device.write(offset, ByteBuffer.wrap(data), kind == 0);
                    events.add(new Event(seq, member, offset, length, data));
                } else if (kind < 18) {
                    long seq = device.writeZeroes(offset, length, false);
                    events.add(new Event(seq, member, offset, length, null));
                } else {
                    device.flush();
                }
            }
        } catch (Throwable e) {
            failures.add(e);
        }
    }

    private static TreeMap<Long, ImageModel> modelBySeq(ConcurrentLinkedQueue<Event> events) {
        TreeMap<Long, Event> bySeq = new TreeMap<>();
        for (Event e : events) {
            bySeq.put(e.seq(), e);
        }
        TreeMap<Long, ImageModel> images = new TreeMap<>();
        ImageModel image = ImageModel.zeros(SIZES);
        long expectedSeq = 1;
        for (Event e : bySeq.values()) {
            assertEquals(expectedSeq++, e.seq(), "seqs are dense");
            image = e.data() == null ? image.zero(e.member(), e.offset(), e.length()) : image.write(e.member(), e.offset(), e.data());
            images.put(e.seq(), image);
        }
        return images;
    }

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        java.util.Arrays.fill(a, b);
        return a;
    }
}
