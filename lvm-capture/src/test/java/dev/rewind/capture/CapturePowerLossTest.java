package dev.rewind.capture;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.set.TestSet;

import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Power loss under a seeded workload of writes, trims, FUA, flushes and background
 * checkpoints through the capture device, with the data dir, the secondary and the PV on the
 * power-loss file system: at random points the power is cut (unforced writes lost, some dirty
 * pages written whole or torn, unforced directory entries gone); the set reopens, recovers,
 * holds every write acknowledged as durable, equals the model at the seq it recovered to, and
 * verifies.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=100}.
 */
class CapturePowerLossTest {
    private static final long KIB = 1024;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(1, 6);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void everyDurableWriteSurvivesPowerLossAndTheSetRecoversToTheModel(long seed) throws IOException {
        Random r = new Random(seed);
        Path root = Files.createDirectory(tmp.resolve("disk"));
        try (PowerLossDisk disk = PowerLossFileSystemProvider.installed().track(root)) {
            long[] sizes = {256 * KIB, 128 * KIB};
            TestSet t = TestSet.createDurably(root, "s", sizes);
            ModelledWorkload w = new ModelledWorkload(r, ImageModel.zeros(sizes), 0);
            for (int round = 1; round <= 5; round++) {
                String context = "seed " + seed + " (replay with -Drewind.seed=" + seed + "), round " + round;
                CaptureOptions options = new CaptureOptions(1024 * KIB * (1 + r.nextInt(2)), CaptureOptions.DEFAULT.clock(),
                        Duration.ofMillis(1 + r.nextInt(20)));
                CapturedSet set = t.open(options);
                w.checkRecovered(set, context);
                int steps = r.nextInt(150);
                for (int i = 0; i < steps; i++) {
                    w.step(set);
                }
                disk.powerCut(r, PowerLossDisk.Survival.SOME_PAGES);
                closeDead(set);
                t.catalog.close();
                disk.restart();
                t = TestSet.attach(root, "s");
            }
            CapturedSet set = t.open();
            w.checkRecovered(set, "seed " + seed + ", after the last cut");
            set.close();
            t.close();
        }
    }

    /** Closes what was open when the power went: every write and force it tries fails. */
    static void closeDead(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception expected) {
            // the power is off: nothing it does now reaches the disk
        }
    }
}
