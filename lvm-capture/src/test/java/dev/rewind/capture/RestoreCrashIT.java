package dev.rewind.capture;

import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restores in place killed with SIGKILL part way: a child JVM ({@link RestoreCrashChild})
 * restores the set back and forth between two seqs of a known workload and is killed at a
 * random instant. The parent reopens the set (running recovery). If a restore was cut short
 * while writing, the set says so and refuses writes, and after {@code resume} (here, or by the
 * next child, which may itself be killed while resuming) the primary equals the model at the
 * restore's target. If the kill fell outside a restore's writes, the primary equals the model
 * at one of the seqs it was last restored to: never a mixed state without an intent saying so.
 * Both restore paths are used (staged in memory, and verify pass then write pass).
 *
 * <p>{@code -Drewind.crash.rounds=N} (default 30), {@code -Drewind.seed=S} replays the
 * workload, the targets and the kill instants (the instants still race with the child).
 */
class RestoreCrashIT {
    private static final int WORKLOAD_OPS = 300;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.of(0x5E570_0001L);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void sigkillDuringRestoresInPlaceIsRecordedAndResumeReachesTheTarget(long seed) throws Exception {
        int rounds = Integer.getInteger("rewind.crash.rounds", 30);
        Random random = new Random(seed);
        String ctx0 = Seeds.describe(seed);
        System.out.println("RestoreCrashIT: " + ctx0 + ", " + rounds + " rounds");

        String classPath = ChildJvm.snapshotClassPath(tmp.resolve("classpath"));
        Path root = tmp.resolve("set");
        long[] sizes;
        try (TestSet t = TestSet.create(root, RestoreCrashChild.SET, 1 << 20, 512 << 10, 256 << 10);
             CapturedSet set = t.open(CrashWorkload.OPTIONS)) {
            sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
            for (long s = 1; s <= WORKLOAD_OPS; s++) {
                assertEquals(s, CrashWorkload.op(seed, s, sizes).runOn(set), ctx0 + ": workload seq");
            }
        }
        CrashIT.SeqModel model = new CrashIT.SeqModel(seed, sizes);

        int interrupted = 0;
        int resumedHere = 0;
        int betweenRestores = 0;
        long at = WORKLOAD_OPS; // the seq whose image the set holds, when no restore is unfinished
        long pendingTarget = -1; // the target of an interrupted restore left for the next child
        long started = System.nanoTime();
        for (int round = 1; round <= rounds; round++) {
            long a = random.nextInt(WORKLOAD_OPS + 1);
            long b = random.nextInt(WORKLOAD_OPS + 1);
            long staged = random.nextBoolean() ? 1 : 256L << 20;
            String ctx = ctx0 + ", round " + round + " (targets " + a + " and " + b + ", staged up to " + staged + " bytes)";
            Path err = root.resolve("child-" + round + ".err");
            List<String> said;
            try (ChildJvm child = ChildJvm.start(classPath, RestoreCrashChild.class, err, "OPENED", root.toString(), Long.toString(a),
                    Long.toString(b), Long.toString(staged))) {
                child.awaitReady(ctx);
                Thread.sleep(random.nextInt(600));
                child.kill(ctx);
                said = child.lines();
            }

            try (TestSet t = TestSet.attach(root, RestoreCrashChild.SET);
                 CapturedSet set = t.open(CrashWorkload.OPTIONS)) {
                String c = ctx + ", recovered lastSeq " + set.lastSeq() + ", " + set.recovery() + ", child said " + said;
                var ir = set.interruptedRestore();
                if (ir.isPresent()) {
                    interrupted++;
                    long target = ir.get().intent().targetSeq();
                    Set<Long> possible = new LinkedHashSet<>(List.of(a, b));
                    if (pendingTarget >= 0) {
                        possible.add(pendingTarget);
                    }
                    assertTrue(possible.contains(target), c + ": the interrupted restore's target " + target + " is one of " + possible);
                    assertTrue(set.isRestoreUnfinished(), c);
                    assertThrows(RewindException.class, () -> set.devices().get(0).write(0, ByteBuffer.allocate(512), false),
                            c + ": writes are refused while the restore is unfinished");
                    if (random.nextBoolean() || round == rounds) {
                        RestoreResult r = set.resumeRestore(ProgressListener.NONE);
                        assertEquals(ir.get().intent().firstRestoreSeq(), r.firstSeq(), c + ": resume keeps the restore's first seq");
                        model.imageAt(target).assertPrimaryEquals(set, c + ", after resuming the restore to " + target);
                        assertTrue(set.interruptedRestore().isEmpty(), c + ": nothing unfinished after resume");
                        resumedHere++;
                        at = target;
                        pendingTarget = -1;
                    } else {
                        pendingTarget = target; // the next child resumes it first
                    }
                } else {
                    betweenRestores++;
                    Set<Long> possible = new LinkedHashSet<>(List.of(a, b, at));
                    if (pendingTarget >= 0) {
                        possible.add(pendingTarget);
                    }
                    long matched = -1;
                    for (long s : possible) {
                        if (primaryEquals(set, model.imageAt(s))) {
                            matched = s;
                            break;
                        }
                    }
                    if (matched < 0) {
                        fail(c + ": no restore is recorded as unfinished, yet the primary equals none of the images at seqs " + possible);
                    }
                    at = matched;
                    pendingTarget = -1;
                }
                assertEquals(set.lastSeq(), set.verify(), c + ": every record verifies");
            }
            CaptureModelTest.deleteTree(err);
        }
        System.out.printf("RestoreCrashIT: %s: %d kills, %d interrupted a restore's writes (%d resumed by the test, the rest by the"
                + " next child), %d outside them, %.1f s%n", ctx0, rounds, interrupted, resumedHere, betweenRestores,
                (System.nanoTime() - started) / 1e9);
        assertTrue(interrupted >= rounds / 4, ctx0 + ": most kills should land while a restore writes; only " + interrupted
                + " of " + rounds + " did");
    }

    private static boolean primaryEquals(CapturedSet set, ImageModel image) throws IOException {
        for (int m = 0; m < image.memberCount(); m++) {
            if (!java.util.Arrays.equals(image.bytes(m), ImageModel.readDevice(set.devices().get(m)))) {
                return false;
            }
        }
        return true;
    }
}
