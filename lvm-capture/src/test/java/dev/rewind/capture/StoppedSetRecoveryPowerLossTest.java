package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.fs.FaultPlan;
import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A set stopped by an I/O error on its secondary comes back by itself: retried by the clock
 * with a backoff (1 s, doubling, at most 30 s), each attempt refused while the secondary still
 * fails its probe, and reopened at the first attempt after the cause is gone, with every
 * acknowledged write, which a power cut after its next flush keeps too. Runs on the power-loss
 * file system, whose fault plans stand in for a secondary that fails writes.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}.
 */
class StoppedSetRecoveryPowerLossTest {
    private static final long KIB = 1024;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(1, 3);
    }

    /** The daemon's open sets, reopened as {@code rewind set reopen} does: closed (a stopped set's last checkpoint fails) and opened anew. */
    static final class OneSet implements StoppedSetRecovery.ServedSets {
        final VolumeManager volumes;
        final CaptureOptions options;
        CapturedSet set;
        int reopens;

        OneSet(VolumeManager volumes, CaptureOptions options) throws IOException {
            this(volumes, options, Sets.open(volumes, "s", options));
        }

        OneSet(VolumeManager volumes, CaptureOptions options, CapturedSet open) {
            this.volumes = volumes;
            this.options = options;
            this.set = open;
        }

        @Override
        public Collection<CapturedSet> open() {
            return List.of(set);
        }

        @Override
        public Optional<CapturedSet> open(String setName) {
            return Optional.of(set).filter(s -> s.name().equals(setName));
        }

        @Override
        public boolean isOffline(String setName) {
            return false;
        }

        @Override
        public void release(String setName, String why) {
            throw new AssertionError("released " + setName + ": " + why);
        }

        @Override
        public void reopen(String setName) throws IOException {
            CapturePowerLossTest.closeDead(set);
            reopens++;
            set = Sets.open(volumes, setName, options);
        }
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void aStoppedSetIsRetriedWithBackoffAndComesBackWithEveryAcknowledgedWrite(long seed) throws IOException {
        String context = "seed " + seed + " (replay with -Drewind.seed=" + seed + ")";
        Random r = new Random(seed);
        Path pvs = Files.createDirectory(tmp.resolve("pvs"));
        Path secondary = tmp.resolve("secondary");
        long[] sizes = {192 * KIB, 64 * KIB};
        MovingClock clock = MovingClock.at(Instant.parse("2026-03-01T10:00:00Z"));
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(tmp.resolve("data")))) {
            VolumeManager volumes = new VolumeManager(catalog);
            volumes.createPv("pv0", pvs.resolve("pv0.img"), 2L << 20);
            volumes.createVg("vg0", List.of("pv0"), 64 * KIB);
            volumes.createLv("m0", "vg0", sizes[0]);
            volumes.createLv("m1", "vg0", sizes[1]);
            Sets.create(volumes, "s", List.of("vg0/m0", "vg0/m1"), secondary, ProgressListener.NONE);
            PowerLossFileSystemProvider fs = PowerLossFileSystemProvider.installed();
            try (PowerLossDisk secondaryDisk = fs.track(secondary)) {
                OneSet served = new OneSet(volumes, new CaptureOptions(1 << 20, clock, Duration.ofDays(1)));
                ModelledWorkload w = new ModelledWorkload(r, ImageModel.zeros(sizes), 0);
                StoppedSetRecovery recovery = new StoppedSetRecovery(served, clock, StoppedSetRecovery.Backoff.DEFAULT);
                for (int i = 0; i < 10 + r.nextInt(20); i++) {
                    w.step(served.set);
                }
                assertEquals(List.of(), recovery.runDue(), context + ": a set that takes writes is left alone");
                assertTrue(recovery.retry("s").isEmpty(), context);

                // the secondary fails a journal write: the set stops, refusing what it did not take
                secondaryDisk.injectFaults(new FaultPlan(p -> p.getFileName().toString().endsWith(".rwj"), FaultPlan.Operation.WRITE, 1));
                long acknowledged = w.headSeq();
                IOException error = null;
                while (error == null) {
                    long before = served.set.lastSeq();
                    acknowledged = w.headSeq();
                    try {
                        w.step(served.set);
                    } catch (IOException e) {
                        error = e;
                        if (served.set.lastSeq() > before) {
                            w.appendedUnknown(served.set.lastSeq());
                        }
                    }
                }
                secondaryDisk.injectFaults(null);
                CapturedSet stoppedSet = served.set;
                Instant since = stoppedSet.stopped().orElseThrow().since();
                assertThrows(IOException.class, () -> stoppedSet.devices().get(0).write(0, ByteBuffer.allocate(1), false),
                        context + ": a stopped set refuses writes");

                // noticed at once, first tried after 1 s, then after 2, 4, 8, 16, 30, 30 s while the secondary fails its probe
                assertEquals(List.of(), recovery.runDue());
                StoppedSetRecovery.Retry retry = recovery.retry("s").orElseThrow(() -> new AssertionError(context + ": not retried"));
                assertEquals(0, retry.failedAttempts(), context);
                assertEquals(clock.instant().plusSeconds(1), retry.nextAttemptAt(), context + ": first attempt after 1 s");
                assertEquals(since, retry.stoppedSince(), context);
                assertTrue(retry.cause().contains("injected"), context + ": the retry says why the set stopped: " + retry);
                long[] waits = {1, 2, 4, 8, 16, 30, 30};
                for (int attempt = 0; attempt < waits.length; attempt++) {
                    clock.advance(Duration.ofSeconds(waits[attempt]).minusMillis(1));
                    assertEquals(List.of(), recovery.runDue());
                    assertEquals(attempt, recovery.retry("s").orElseThrow().failedAttempts(),
                            context + ": no attempt before its time (" + waits[attempt] + " s after the last)");
                    FaultPlan probeFails = new FaultPlan(p -> p.getFileName().toString().equals(StoppedSetRecovery.PROBE_FILE),
                            FaultPlan.Operation.WRITE, 1);
                    secondaryDisk.injectFaults(probeFails);
                    clock.advance(Duration.ofMillis(1));
                    assertEquals(List.of(), recovery.runDue(), context + ": the secondary still fails writes");
                    secondaryDisk.injectFaults(null);
                    assertNotNull(probeFails.injected(), context + ": attempt " + (attempt + 1) + " probed the secondary");
                    retry = recovery.retry("s").orElseThrow();
                    assertEquals(attempt + 1, retry.failedAttempts(), context);
                    assertTrue(retry.lastAttemptFailure().contains("injected"), context + ": " + retry);
                    assertEquals(0, served.reopens, context + ": a set whose secondary fails its probe is not reopened");
                    assertSame(stoppedSet, served.set, context);
                }

                // the cause is gone: the next attempt reopens it, with every write acknowledged before the error
                clock.advance(Duration.ofSeconds(30));
                assertEquals(List.of("s"), recovery.runDue(), context + ": the set comes back once its secondary takes writes");
                assertEquals(1, served.reopens, context);
                assertNotSame(stoppedSet, served.set, context);
                assertTrue(served.set.stopped().isEmpty(), context);
                assertTrue(recovery.retry("s").isEmpty(), context + ": nothing is retried any more");
                assertTrue(served.set.lastSeq() >= acknowledged, context + ": came back at seq " + served.set.lastSeq()
                        + " but seq " + acknowledged + " was acknowledged");
                w.at(served.set.lastSeq()).assertPrimaryEquals(served.set, context + ", came back");
                served.set.verify();
                w.recoveredAt(served.set.lastSeq());
                for (int i = 0; i < 10; i++) {
                    w.step(served.set);
                }
                w.head().assertPrimaryEquals(served.set, context + ", writes after it came back");
                assertTrue(Files.notExists(secondary.resolve(StoppedSetRecovery.PROBE_FILE)), context + ": the probe leaves no file");

                // and what the set took before and after is durable like any write: flushed, then the power goes
                served.set.flush();
                long durable = served.set.lastSeq();
                secondaryDisk.powerCut(r, PowerLossDisk.Survival.SOME_PAGES);
                CapturePowerLossTest.closeDead(served.set);
                secondaryDisk.restart();
                CapturedSet afterPowerLoss = Sets.open(volumes, "s", served.options);
                assertEquals(durable, afterPowerLoss.lastSeq(), context + ": every flushed write survives the power loss");
                w.checkRecovered(afterPowerLoss, context + ", after a power loss");
                afterPowerLoss.close();
            }
        }
    }
}
