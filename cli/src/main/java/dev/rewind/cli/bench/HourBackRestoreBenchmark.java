package dev.rewind.cli.bench;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Section 5 of the increments benchmark: a restore in place to a point an hour of load back.
 * Two sets get the same writes in the same order ({@link PageWorkload}: a load of every page,
 * {@code secondsBefore} seconds of load, the target, then {@code secondsAfter} seconds); one is
 * cut after every second, the other never, so it restores through the journal alone (and the
 * replica made at its creation). Each is then restored to the target once, its time and the
 * bytes the process read meanwhile measured; the two restored volumes are compared byte for
 * byte. Seconds are simulated: the load runs as fast as it can.
 */
final class HourBackRestoreBenchmark {
    private final IncrementsBenchmark.Config config;
    private final Path dir;
    private final PrintStream log;

    HourBackRestoreBenchmark(IncrementsBenchmark.Config config, Path dir, PrintStream log) {
        this.config = config;
        this.dir = dir;
        this.log = log;
    }

    List<IncrementsBenchmark.Row> run(VolumeManager vm) throws IOException {
        long volumeBytes = config.restoreVolumeBytes();
        IncrementsBenchmark.newSet(vm, dir, "cuts", volumeBytes);
        IncrementsBenchmark.newSet(vm, dir, "nocuts", volumeBytes);
        try (CapturedSet cuts = Sets.open(vm, "set-cuts", CaptureOptions.DEFAULT);
             CapturedSet noCuts = Sets.open(vm, "set-nocuts", CaptureOptions.DEFAULT)) {
            List<BlockDevice> both = List.of(cuts.devices().get(0), noCuts.devices().get(0));
            PageWorkload load = new PageWorkload(volumeBytes, config.seed() + 5);
            load.load(both);
            cuts.cut(CutReason.PERIOD);
            for (int s = 0; s < config.secondsBefore(); s++) {
                load.second(both, config.pageWritesPerSecond());
                cuts.cut(CutReason.PERIOD);
            }
            long target = cuts.lastSeq();
            if (noCuts.lastSeq() != target) {
                throw new IllegalStateException("the two sets hold different seqs: " + target + " and " + noCuts.lastSeq());
            }
            long afterTargetStart = load.bytesWritten();
            for (int s = 0; s < config.secondsAfter(); s++) {
                load.second(both, config.pageWritesPerSecond());
                cuts.cut(CutReason.PERIOD);
                if ((s + 1) % 600 == 0) {
                    log.printf("  hour back: %d of %d seconds after the target%n", s + 1, config.secondsAfter());
                }
            }
            long afterTarget = load.bytesWritten() - afterTargetStart;
            cuts.checkpoint();
            noCuts.checkpoint();
            log.printf("  hour back: target seq %d of %d; %d transactions; journals %d MiB each; increments %d MiB%n", target,
                    cuts.lastSeq(), cuts.transactions().size(), noCuts.secondaryUsage().journalBytes() >> 20,
                    cuts.secondaryUsage().incrementBytes() >> 20);
            Measured viaIncrements = restore(cuts, target);
            Measured viaJournal = restore(noCuts, target);
            boolean equal = sameContent(both.get(0), both.get(1));
            log.printf("  hour back: increments %.2f s, %d MiB read; journal alone %.2f s, %d MiB read; %d bytes rewritten; volumes %s%n",
                    viaIncrements.seconds(), viaIncrements.bytesRead() >> 20, viaJournal.seconds(), viaJournal.bytesRead() >> 20,
                    viaIncrements.result().bytesWritten(), equal ? "equal" : "DIFFER");
            if (!equal || viaIncrements.result().bytesWritten() != viaJournal.result().bytesWritten()) {
                throw new IllegalStateException("the two restores disagree: the figures would compare different work");
            }
            String what = String.format("restore in place %d s of load back (%d page writes + 1 log write a second, %d MiB written"
                            + " after the target, %d MiB rewritten; %d s before it) on %d MiB: through increments (a cut every second)"
                            + " vs the journal alone", config.secondsAfter(), config.pageWritesPerSecond(), afterTarget >> 20,
                    viaIncrements.result().bytesWritten() >> 20, config.secondsBefore(), volumeBytes >> 20);
            return List.of(
                    new IncrementsBenchmark.Row(what + ": time", String.format("%.2f s", viaIncrements.seconds()),
                            String.format("%.2f s", viaJournal.seconds()), IncrementsBenchmark.ratio(viaIncrements.seconds()
                            / viaJournal.seconds()), "-"),
                    new IncrementsBenchmark.Row(what + ": bytes read (rchar)", IncrementsBenchmark.mib(viaIncrements.bytesRead() / 1048576.0),
                            IncrementsBenchmark.mib(viaJournal.bytesRead() / 1048576.0),
                            IncrementsBenchmark.ratio((double) viaIncrements.bytesRead() / viaJournal.bytesRead()), "-"));
        }
    }

    private record Measured(double seconds, long bytesRead, RestoreResult result) {
    }

    private static Measured restore(CapturedSet set, long target) throws IOException {
        long read = IncrementsBenchmark.bytesReadByProcess();
        long start = System.nanoTime();
        RestoreResult result = set.restoreInPlace(target, ProgressListener.NONE);
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Measured(seconds, IncrementsBenchmark.bytesReadByProcess() - read, result);
    }

    private static boolean sameContent(BlockDevice a, BlockDevice b) throws IOException {
        ByteBuffer x = ByteBuffer.allocateDirect(1 << 20);
        ByteBuffer y = ByteBuffer.allocateDirect(1 << 20);
        for (long pos = 0; pos < a.sizeBytes(); pos += x.capacity()) {
            int n = (int) Math.min(x.capacity(), a.sizeBytes() - pos);
            x.clear().limit(n);
            y.clear().limit(n);
            a.read(pos, x);
            b.read(pos, y);
            if (!x.flip().equals(y.flip())) {
                return false;
            }
        }
        return true;
    }
}
