package dev.rewind.capture;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.model.ImageModel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.testfixtures.clock.MovingClock;
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
import java.time.Instant;
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
 * never a silent success; after it every flush fails (no retry-and-pretend). Once the fault
 * has cleared, {@link StoppedSetRecovery} brings the set back by itself with every write it
 * acknowledged, and a flush makes them durable. After a power cut the set reopens consistent,
 * holds every write acknowledged as durable, equals the model at the seq it recovered to, and
 * verifies.
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

    /** The stopped set, brought back by {@link StoppedSetRecovery} at its first attempt, the fault having cleared. */
    private static CapturedSet recoveredByItself(VolumeManager volumes, CaptureOptions options, CapturedSet stopped, String context) {
        StoppedSetRecoveryPowerLossTest.OneSet served = new StoppedSetRecoveryPowerLossTest.OneSet(volumes, options, stopped);
        MovingClock clock = MovingClock.at(Instant.parse("2026-03-01T10:00:00Z"));
        StoppedSetRecovery recovery = new StoppedSetRecovery(served, clock, StoppedSetRecovery.Backoff.DEFAULT);
        assertEquals(List.of(), recovery.runDue(), context + ": not before the first attempt is due");
        clock.advance(StoppedSetRecovery.Backoff.DEFAULT.first());
        assertEquals(List.of("s"), recovery.runDue(), context + ": the set comes back by itself once the fault cleared");
        assertTrue(served.set.stopped().isEmpty(), context);
        return served.set;
    }

    /** One phase: open, run the workload with the plan armed, check the fault's effects, cut the power, recover. Returns whether the fault fired. */
    private static boolean phase(VolumeManager volumes, CaptureOptions options, ModelledWorkload w, FaultPlan plan,
                                 PowerLossDisk pvDisk, PowerLossDisk secondaryDisk, Random r, String context) throws IOException {
        CapturedSet first = Sets.open(volumes, "s", options);
        CapturedSet set = first;
        w.checkRecovered(set, context + ", at open");
        pvDisk.injectFaults(plan);
        secondaryDisk.injectFaults(plan);
        IOException error = null;
        long acknowledged = w.headSeq();
        try {
            for (int i = 0; i < PHASE_STEPS && error == null; i++) {
                long before = set.lastSeq();
                acknowledged = w.headSeq();
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
                acknowledged = w.headSeq();
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
            assertThrows(IOException.class, first::flush, context + ": a flush after a failed write or force claimed durability");
            IOException refused = assertThrows(IOException.class, () -> first.devices().get(0).write(0, ByteBuffer.allocate(1), false),
                    context + ": the set took a write after an I/O error");
            assertTrue(set.stopped().isPresent() && set.stopped().get().cause().contains("injected"),
                    context + ": the set says it stopped and why: " + set.stopped());
            assertTrue(refused.getMessage().contains("rewind set reopen s"), context + ": the refusal says what brings it back: "
                    + refused.getMessage());
            set = recoveredByItself(volumes, options, set, context);
            assertTrue(set.lastSeq() >= acknowledged, context + ": came back at seq " + set.lastSeq() + " but seq " + acknowledged
                    + " was acknowledged");
            assertTrue(set.lastSeq() <= w.headSeq(), context + ": came back at seq " + set.lastSeq() + ", newer than the newest write");
            w.at(set.lastSeq()).assertPrimaryEquals(set, context + ", came back at seq " + set.lastSeq());
            set.flush();
            w.recoveredAt(set.lastSeq()); // all of it durable now
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
