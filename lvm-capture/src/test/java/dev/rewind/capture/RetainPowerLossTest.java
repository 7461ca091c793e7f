package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.fs.FaultPlan;
import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A retention pass survives a power cut at any point (issue 23, crash-safe like cuts): a set's
 * history is built on a moving clock until a pass would both drop and merge; then, from a copy
 * of its secondary taken at that moment, the pass is run once for each of its forces with the
 * power cut just before that force (the secondary on the power-loss file system; unforced
 * writes lost, or with some pages written back whole or torn, unforced directory entries
 * gone), and once with the power cut right after the pass returned. After each restart:
 * <ul>
 *   <li>the boundaries are exactly those before the pass or exactly those its plan keeps,
 *       and those it keeps once the pass returned;</li>
 *   <li>no {@code retain/} is left, {@code increments/} holds exactly the increments of the
 *       transactions in the log, {@code maps/} names no transaction after the newest;</li>
 *   <li>every boundary reads back as the model (through the span maps too), {@code verify}
 *       passes, the primary holds every write, and passes run again leave what they leave after
 *       a pass that was not cut.</li>
 * </ul>
 * Both outcomes must be seen: cuts before the commit roll the pass back, cuts after it finish it.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}.
 */
class RetainPowerLossTest {
    private static final long KIB = 1024;
    private static final Instant START = Instant.parse("2031-06-01T00:00:00Z");
    private static final RetentionPolicy POLICY = RetentionPolicy.parse("every-write:10m,transactions:15m,hourly:3h");

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x23D0_0001L, 2);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void aPowerCutAtAnyForceOfARetentionPassLeavesTheHistoryBeforeOrAfterIt(long seed) throws Exception {
        PowerLossFileSystemProvider provider = PowerLossFileSystemProvider.installed();
        Random r = new Random(seed);
        String ctx0 = Seeds.describe(seed);
        Path root = Files.createDirectory(tmp.resolve("set"));
        MovingClock clock = MovingClock.at(START);
        CaptureOptions options = RetainCrashChild.options(clock, POLICY, 2, r.nextBoolean() ? IncrementCodec.NONE : IncrementCodec.ZSTD);
        long started = System.nanoTime();
        try (TestSet t = TestSet.create(root, "s", 256 * KIB, 128 * KIB)) {
            Path secondary = t.volumes.findSet("s").secondaryDir();
            Path pv = root.resolve("pv0.img");
            List<ImageModel> images = buildHistoryUpToAPassThatDropsAndMerges(t, options, clock, r, ctx0);
            long head = images.size() - 1;
            Path savedSecondary = tmp.resolve("saved-secondary");
            Path savedPv = tmp.resolve("saved-pv0.img");
            copyTree(secondary, savedSecondary);
            Files.copy(pv, savedPv);

            // what a second pass leaves after an uncut one: a point kept for the newest of its hour can go in the
            // second (after a drop, the oldest boundary's time is the next transaction's first write)
            List<Long> twice;
            try (CapturedSet set = t.open(options)) {
                set.retentionPolicy(POLICY);
                set.retain(set.planRetention());
                set.retain(set.planRetention());
                twice = HorizonTest.boundaries(set);
            }

            int rolledBack = 0;
            int finished = 0;
            long forcesInPass = -1;
            for (int cutAt = 0; forcesInPass < 0 || cutAt <= forcesInPass; cutAt++) {
                CaptureModelTest.deleteTree(secondary);
                copyTree(savedSecondary, secondary);
                Files.copy(savedPv, pv, StandardCopyOption.REPLACE_EXISTING);
                PowerLossDisk.Survival survival = r.nextBoolean() ? PowerLossDisk.Survival.NONE : PowerLossDisk.Survival.SOME_PAGES;
                String ctx = ctx0 + ", power cut " + (cutAt == 0 ? "after the pass" : "before force " + cutAt + " of the pass") + " ("
                        + survival + ")";
                List<Long> before;
                List<Long> kept;
                boolean returned;
                try (PowerLossDisk disk = provider.track(secondary)) {
                    CapturedSet set = t.open(options);
                    set.retentionPolicy(POLICY);
                    before = HorizonTest.boundaries(set);
                    RetentionPlan plan = set.planRetention();
                    kept = new ArrayList<>(plan.kept().keySet());
                    assertTrue(plan.dropped() > 0 && !plan.merges().isEmpty(), ctx + ": the pass drops and merges: " + plan.going());
                    long[] forces = {0};
                    long nth = cutAt;
                    disk.injectFaults(new FaultPlan(p -> {
                        if (++forces[0] == nth) {
                            try {
                                disk.powerCut(r, survival); // just before this force: nothing from here on reaches the disk
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        }
                        return true;
                    }, FaultPlan.Operation.FORCE, nth));
                    try {
                        set.retain(plan);
                        returned = true;
                    } catch (IOException | RuntimeException e) {
                        returned = false;
                        assertTrue(disk.cuts() > 0, ctx + ": the pass failed only because the power went: " + e);
                    }
                    if (returned) {
                        assertEquals(0, disk.cuts(), ctx + ": the pass returned with the power on");
                        forcesInPass = forces[0];
                        disk.injectFaults(null);
                        disk.powerCut(r, survival);
                    }
                    CapturePowerLossTest.closeDead(set);
                    disk.restart();
                }
                if (returned && cutAt > 0) {
                    break; // past the last force of the pass
                }

                try (CapturedSet set = t.open(options)) {
                    List<Long> now = HorizonTest.boundaries(set);
                    String c = ctx + ", boundaries before " + before + ", kept " + kept + ", after the restart " + now;
                    assertEquals(head, set.lastSeq(), c + ": every write was flushed before the pass and stays");
                    images.get((int) head).assertPrimaryEquals(set, c + ": the primary");
                    boolean after = RetainedHistory.beforeOrAfter(now, before.get(before.size() - 1), before, kept, c);
                    if (returned) {
                        assertTrue(after, c + ": a pass that returned stays done");
                    }
                    finished += after ? 1 : 0;
                    rolledBack += after ? 0 : 1;
                    RetainedHistory.assertSecondaryHoldsOnlyTheLog(set, secondary, c);
                    RetainedHistory.assertBoundariesReadAsModel(set, seq -> images.get((int) seq), c);
                    set.verify();
                    set.retentionPolicy(POLICY);
                    set.retain(set.planRetention());
                    if (!after) {
                        assertEquals(kept, HorizonTest.boundaries(set), c + ": the pass run again after the restart leaves what the plan keeps");
                        set.retain(set.planRetention());
                    }
                    assertEquals(twice, HorizonTest.boundaries(set), c + ": a pass run again after the restart leaves what it leaves "
                            + "after a pass that was not cut");
                    RetainedHistory.assertSecondaryHoldsOnlyTheLog(set, secondary, c + ", after the pass ran again");
                    RetainedHistory.assertBoundariesReadAsModel(set, seq -> images.get((int) seq), c + ", after the pass ran again");
                }
            }
            System.out.printf("RetainPowerLossTest: %s: %d forces in the pass; %d cuts rolled it back, %d found it done; %.1f s%n", ctx0,
                    forcesInPass, rolledBack, finished, (System.nanoTime() - started) / 1e9);
            assertTrue(rolledBack > 0 && finished > 1, ctx0 + ": the cuts fell both before the commit (" + rolledBack
                    + ") and after it (" + finished + ")");
        }
    }

    /**
     * Writes, cuts every 5 to 15 simulated minutes and runs a pass after some cuts, until a pass
     * would drop and merge; returns the image at every seq. The set is closed on return.
     */
    private static List<ImageModel> buildHistoryUpToAPassThatDropsAndMerges(TestSet t, CaptureOptions options, MovingClock clock,
                                                                           Random r, String ctx) throws IOException {
        List<ImageModel> images = new ArrayList<>();
        try (CapturedSet set = t.open(options)) {
            set.retentionPolicy(POLICY);
            images.add(ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray()));
            for (int step = 1; ; step++) {
                assertTrue(step < 200, ctx + ": no pass that drops and merges after " + step + " steps");
                clock.advance(Duration.ofMinutes(5 + r.nextInt(11)));
                for (int i = 0, n = 2 + r.nextInt(5); i < n; i++) {
                    int m = r.nextInt(set.devices().size());
                    BlockDevice d = set.devices().get(m);
                    byte[] data = new byte[1 + r.nextInt(32 * 1024)];
                    r.nextBytes(data);
                    long offset = (long) (r.nextDouble() * (d.sizeBytes() - data.length + 1));
                    assertEquals(images.size(), d.write(offset, ByteBuffer.wrap(data), false), ctx + ": writes take consecutive seqs");
                    images.add(images.get(images.size() - 1).write(m, offset, data));
                }
                set.cut(CutReason.DEMAND).orElseThrow();
                RetentionPlan plan = set.planRetention();
                if (step >= 20 && plan.dropped() > 0 && plan.merges().size() > 1) {
                    set.flush();
                    return images;
                }
                if (step % 3 == 0) {
                    set.retain(plan); // so that the pass under test merges transactions merged before
                }
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path src : walk.toList()) {
                Path dst = to.resolve(from.relativize(src).toString());
                if (Files.isDirectory(src)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(src, dst);
                }
            }
        }
        assertFalse(Files.exists(to.resolve("retain")), "the copy is taken between passes");
    }
}
