package dev.rewind.capture;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.model.ImageModel;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.testfixtures.fs.FaultPlan;
import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * I/O faults swept through the write path: under a seeded workload, the k-th write and the
 * k-th force of the journal, the dirty region log and the primary fail, for every k up to the
 * number of such operations in a phase of the workload. The failing request gets an error,
 * never a silent success; after it every flush fails (no retry-and-pretend); after a power
 * cut the set reopens consistent, holds every write acknowledged as durable, equals the
 * model at the seq it recovered to, and verifies.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}.
 */
class CaptureFaultSweepTest {
    private static final long KIB = 1024;
    private static final int PHASE_STEPS = 20;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(1, 2);
    }

    record Target(String name, Predicate<Path> files) {
    }

    static final List<Target> TARGETS = List.of(
            new Target("journal", p -> p.getFileName().toString().endsWith(".rwj")),
            new Target("dirty region log", p -> p.getFileName().toString().equals("drl")),
            new Target("primary", p -> p.getFileName().toString().equals("pv0.img")));

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void everyFailedWriteOrForceIsReportedAndTheSetRecoversWithEveryDurableWrite(long seed) throws IOException {
        Random r = new Random(seed);
        Path pvs = Files.createDirectory(tmp.resolve("pvs"));
        Path secondary = tmp.resolve("secondary");
        long[] sizes = {192 * KIB, 64 * KIB};
        // The catalog stays off the faulty disks: only the set's own files fail and lose power.
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(tmp.resolve("data")))) {
            VolumeManager volumes = new VolumeManager(catalog);
            volumes.createPv("pv0", pvs.resolve("pv0.img"), 2L << 20);
            volumes.createVg("vg0", List.of("pv0"), 64 * KIB);
            volumes.createLv("m0", "vg0", sizes[0]);
            volumes.createLv("m1", "vg0", sizes[1]);
            Sets.create(volumes, "s", List.of("vg0/m0", "vg0/m1"), secondary, ProgressListener.NONE);
            PowerLossFileSystemProvider fs = PowerLossFileSystemProvider.installed();
            try (PowerLossDisk pvDisk = fs.track(pvs); PowerLossDisk secondaryDisk = fs.track(secondary)) {
                ModelledWorkload w = new ModelledWorkload(r, ImageModel.zeros(sizes), 0);
                // checkpoints only when the workload asks, so that a phase's I/O does not depend on timing
                CaptureOptions options = new CaptureOptions(1 << 20, CaptureOptions.DEFAULT.clock(), Duration.ofDays(1));
                int phases = 0;
                for (Target target : TARGETS) {
                    for (FaultPlan.Operation op : FaultPlan.Operation.values()) {
                        for (long k = 1; ; k++) {
                            String context = "seed " + seed + " (replay with -Drewind.seed=" + seed + "), " + op + " #" + k + " of the "
                                    + target.name();
                            FaultPlan plan = new FaultPlan(target.files(), op, k);
                            boolean fired = phase(volumes, options, w, plan, pvDisk, secondaryDisk, r, context);
                            phases++;
                            if (!fired) {
                                break; // a phase has fewer than k such operations: all swept
                            }
                        }
                    }
                }
                assertTrue(phases > 3 * 2 * 2, "the sweep covered too little: " + phases + " phases");
            }
        }
    }

    /** One phase: open, run the workload with the plan armed, check the fault's effects, cut the power, recover. Returns whether the fault fired. */
    private static boolean phase(VolumeManager volumes, CaptureOptions options, ModelledWorkload w, FaultPlan plan,
                                 PowerLossDisk pvDisk, PowerLossDisk secondaryDisk, Random r, String context) throws IOException {
        CapturedSet set = Sets.open(volumes, "s", options);
        w.checkRecovered(set, context + ", at open");
        pvDisk.injectFaults(plan);
        secondaryDisk.injectFaults(plan);
        IOException error = null;
        try {
            for (int i = 0; i < PHASE_STEPS && error == null; i++) {
                long before = set.lastSeq();
                try {
                    w.step(set);
                } catch (IOException e) {
                    error = e;
                    if (set.lastSeq() > before) {
                        // the request failed after its journal record was written: it may or may not survive
                        w.appendedUnknown(set.lastSeq());
                    }
                }
            }
            if (error == null && plan.injected() == null) {
                set.checkpoint();
            }
        } catch (IOException e) {
            error = e;
        } finally {
            pvDisk.injectFaults(null);
            secondaryDisk.injectFaults(null);
        }
        if (plan.injected() != null) {
            assertNotNull(error, context + ": the injected error (" + plan.injected() + ") was never reported to the caller");
            assertThrows(IOException.class, set::flush, context + ": a flush after a failed write or force claimed durability");
            IOException refused = assertThrows(IOException.class, () -> set.devices().get(0).write(0, ByteBuffer.allocate(1), false),
                    context + ": the set took a write after an I/O error");
            assertTrue(set.stopped().isPresent() && set.stopped().get().cause().contains("injected"),
                    context + ": the set says it stopped and why: " + set.stopped());
            assertTrue(refused.getMessage().contains("rewind set reopen s"), context + ": the refusal says what brings it back: "
                    + refused.getMessage());
        } else if (error != null) {
            fail(context + ": an error without an injected fault", error);
        }
        pvDisk.powerCut(r, PowerLossDisk.Survival.SOME_PAGES);
        secondaryDisk.powerCut(r, PowerLossDisk.Survival.SOME_PAGES);
        CapturePowerLossTest.closeDead(set);
        pvDisk.restart();
        secondaryDisk.restart();
        return plan.injected() != null;
    }
}
