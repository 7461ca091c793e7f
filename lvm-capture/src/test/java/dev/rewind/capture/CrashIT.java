package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.layout.SetPrimaries;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invariants 1 and 2 under real crashes: a child JVM ({@link CrashWorkloadChild}) captures
 * a deterministic workload and is killed with SIGKILL at a random instant; the parent
 * reopens the set (running recovery) and checks that nothing flushed was lost, that every
 * record verifies, that the primary equals the model at the recovered lastSeq (journaled
 * writes beyond the last flush count too), and that a clone at a random flushed seq equals
 * the model. The next child resumes at lastSeq + 1, re-issuing lost seqs with the same content.
 *
 * <p>The summary line counts how often recovery mattered: rounds whose raw primary (read
 * before recovery) differed from the model, i.e. the kill fell between a journal append and
 * the primary write (about one round in ten), and rounds with a torn journal tail. Those
 * rounds are what catch a missing DRL mark or a broken recovery.
 *
 * <p>{@code -Drewind.crash.rounds=N} (default 50), {@code -Drewind.seed=S} replays a workload
 * (the kill instants vary with the machine's timing).
 */
class CrashIT {
    private static final int FLUSH_EVERY = 50;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.of(0xC4A5_0001L);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void sigkillAtRandomInstantsLosesNothingFlushedAndRecoversToModel(long seed) throws Exception {
        int rounds = Integer.getInteger("rewind.crash.rounds", 50);
        Random timing = new Random(seed);
        String ctx0 = Seeds.describe(seed);
        System.out.println("CrashIT: " + ctx0 + ", " + rounds + " rounds");

        String classPath = ChildJvm.snapshotClassPath(tmp.resolve("classpath"));
        Path root = tmp.resolve("set");
        long[] sizes;
        try (TestSet t = TestSet.create(root, CrashWorkload.SET, 300 << 10, 1536 << 10, 64 << 10);
             CapturedSet set = t.open(CrashWorkload.OPTIONS)) {
            sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
        }
        SeqModel model = new SeqModel(seed, sizes);

        int kills = 0;
        int dirtyRecoveries = 0;
        int tornTails = 0;
        int repairedByRecovery = 0;
        long beyondFlushed = 0;
        long highestFlushed = 0;
        long lastSeq = 0;
        long started = System.nanoTime();
        for (int round = 1; round <= rounds; round++) {
            String ctx = ctx0 + ", round " + round;
            Path err = root.resolve("child-" + round + ".err");
            long flushed;
            try (ChildJvm child = ChildJvm.start(classPath, CrashWorkloadChild.class, err, "FLUSHED ", root.toString(),
                    Long.toString(seed), Integer.toString(FLUSH_EVERY))) {
                child.awaitReady(ctx);
                Thread.sleep(20 + timing.nextInt(281));
                child.kill(ctx);
                kills++;
                flushed = child.lastFlushed();
            }
            assertTrue(flushed > lastSeq, ctx + ": the child flushed past the previous lastSeq " + lastSeq + ", got " + flushed);
            highestFlushed = Math.max(highestFlushed, flushed);

            try (TestSet t = TestSet.attach(root, CrashWorkload.SET)) {
                byte[][] raw = readRawPrimaries(t);
                try (CapturedSet set = t.open(CrashWorkload.OPTIONS)) {
                    long last = set.lastSeq();
                    String c = ctx + ", last FLUSHED " + flushed + ", recovered lastSeq " + last + ", " + set.recovery();
                    assertTrue(last >= flushed, c + ": a flushed seq was lost");
                    assertTrue(last >= highestFlushed, c + ": a seq flushed in an earlier round was lost (highest " + highestFlushed + ")");
                    assertEquals(last, set.flushedSeq(), c + ": what survived recovery is durable");
                    assertEquals(last, set.verify(), c + ": every record verifies");
                    ImageModel expected = model.imageAt(last);
                    expected.assertPrimaryEquals(set, c);
                    for (int m = 0; m < raw.length; m++) {
                        if (!java.util.Arrays.equals(raw[m], expected.bytes(m))) {
                            repairedByRecovery++;
                            break;
                        }
                    }
                    long target = (long) (timing.nextDouble() * (flushed + 1));
                    Path clone = tmp.resolve("clone-" + round);
                    set.cloneTo(target, clone, ProgressListener.NONE);
                    model.imageAt(target).assertCloneEquals(set, clone, c + ", clone at seq " + target);
                    CaptureModelTest.deleteTree(clone);
                    if (set.recovery().dirtyRegions() > 0) {
                        dirtyRecoveries++;
                    }
                    if (set.recovery().truncatedJournalBytes() > 0) {
                        tornTails++;
                    }
                    lastSeq = last;
                }
            }
            beyondFlushed += lastSeq - flushed;
            CaptureModelTest.deleteTree(err);
        }
        System.out.printf("CrashIT: %s: %d kills, %d recoveries with dirty regions, %d where the primary needed repair, %d torn"
                + " journal tails, %d seqs recovered beyond the last FLUSHED, lastSeq %d, %.1f s%n", ctx0, kills, dirtyRecoveries,
                repairedByRecovery, tornTails, beyondFlushed, lastSeq, (System.nanoTime() - started) / 1e9);
        assertEquals(rounds, kills, ctx0 + ": every round killed a running child");
        assertTrue(dirtyRecoveries > 0, ctx0 + ": some kill landed while regions were dirty, so recovery had work to do");
    }

    /** The primaries as the kill left them, before recovery touches them (read around the capture path). */
    private static byte[][] readRawPrimaries(TestSet t) throws IOException {
        try (SetPrimaries p = t.volumes.openPrimaries(t.volumes.findSet(CrashWorkload.SET))) {
            byte[][] out = new byte[p.members().size()][];
            for (int m = 0; m < out.length; m++) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) p.member(m).sizeBytes());
                p.member(m).read(0, b);
                out[m] = b.array();
            }
            return out;
        }
    }

    /**
     * The image at any seq of the crash workload, rebuilt from the op function, with sparse
     * checkpoints (and one at each seq asked for); {@link #forgetBefore} drops those no longer asked for.
     */
    static final class SeqModel {
        private final long checkpointEvery;
        private final long seed;
        private final long[] sizes;
        private final TreeMap<Long, ImageModel> checkpoints = new TreeMap<>();

        SeqModel(long seed, long[] sizes) {
            this(seed, sizes, 2048);
        }

        SeqModel(long seed, long[] sizes, long checkpointEvery) {
            this.seed = seed;
            this.sizes = sizes.clone();
            this.checkpointEvery = checkpointEvery;
            checkpoints.put(0L, ImageModel.zeros(sizes));
        }

        ImageModel imageAt(long seq) {
            Map.Entry<Long, ImageModel> base = checkpoints.floorEntry(seq);
            ImageModel image = base.getValue();
            for (long s = base.getKey() + 1; s <= seq; s++) {
                image = CrashWorkload.op(seed, s, sizes).applyTo(image);
                if (s % checkpointEvery == 0) {
                    checkpoints.put(s, image);
                }
            }
            checkpoints.put(seq, image);
            return image;
        }

        /** No seq before {@code seq} is asked for again (retention dropped them). */
        void forgetBefore(long seq) {
            Long floor = checkpoints.floorKey(seq);
            checkpoints.headMap(floor, false).clear();
        }
    }
}
