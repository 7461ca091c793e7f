package dev.rewind.cli.bench;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.capture.Sets;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The foundation benchmark, in one run on files in one directory:
 * (a) 4 KiB random writes and 1 MiB sequential writes through the capture path against
 * plain positional {@link FileChannel} writes to a file of the same size, each ending
 * with what makes the writes durable (a capture flush; a plain {@code force});
 * (b) an in-place rewind of 64 MiB of changed 4 KiB blocks on a 2 GiB volume (random blocks
 * written, then overwritten; the rewind brings the first contents back from the journal)
 * against copying those same blocks from one file to another and forcing it.
 * Each figure is the median of {@code rounds} runs, plain and capture alternating.
 *
 * <p>Every file starts in the same state, as a disk or LV would: fully allocated (written
 * once with zeros, not sparse) and read once end to end (the replica copy reads the PV; the
 * plain file is read the same way). On ext4, overwriting a sparse file's cached holes is many
 * times slower than overwriting allocated blocks, so mixed states would measure the file
 * system, not Rewind.
 */
public final class CaptureBenchmark {

    /** Sizes of a run. */
    public record Config(long volumeBytes, long randomBytes, long sequentialBytes, long rewindVolumeBytes, long rewindChangedBytes,
                         int rounds, long seed) {
        public static Config full() {
            return new Config(1L << 30, 256L << 20, 512L << 20, 2L << 30, 64L << 20, 3, 42);
        }

        public static Config quick() {
            return new Config(128L << 20, 32L << 20, 64L << 20, 256L << 20, 8L << 20, 1, 42);
        }
    }

    /** One comparison: throughput (or time) of Rewind and of the peer, and the target ratio. */
    public record Figure(String name, String unit, double rewind, double peer, double ratio, String target, boolean met) {
    }

    private final Config config;
    private final Path dir;
    private final PrintStream log;

    public CaptureBenchmark(Config config, Path dir, PrintStream log) {
        this.config = config;
        this.dir = dir;
        this.log = log;
    }

    public List<Figure> run() throws IOException {
        Files.createDirectories(dir);
        List<Figure> figures = new ArrayList<>();
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(dir.resolve("data")))) {
            VolumeManager vm = new VolumeManager(catalog);
            figures.add(writes(vm, "a", 4096, true, config.randomBytes(), "4 KiB random writes", 0.8));
            figures.add(writes(vm, "b", 1 << 20, false, config.sequentialBytes(), "1 MiB sequential writes", 0.5));
            figures.add(rewind(vm));
        }
        return figures;
    }

    private Figure writes(VolumeManager vm, String tag, int blockBytes, boolean random, long totalBytes, String name, double target)
            throws IOException {
        long volume = config.volumeBytes();
        Path pvFile = dir.resolve("pv-" + tag + ".img");
        allocate(pvFile, volume + (1L << 20));
        vm.createPv("pv-" + tag, pvFile, null);
        Sets.create(vm, "set-" + tag, List.of("pv:pv-" + tag), dir.resolve("secondary-" + tag), ProgressListener.NONE);
        Path plainFile = dir.resolve("plain-" + tag + ".img");
        allocate(plainFile, volume);
        readThrough(plainFile);
        int ops = (int) (totalBytes / blockBytes);
        long[] offsets = new long[ops];
        Random rnd = new Random(config.seed());
        long blocks = volume / blockBytes;
        for (int i = 0; i < ops; i++) {
            offsets[i] = (random ? (long) (rnd.nextDouble() * blocks) : i % blocks) * blockBytes;
        }
        ByteBuffer data = ByteBuffer.allocateDirect(blockBytes);
        byte[] fill = new byte[blockBytes];
        rnd.nextBytes(fill);
        data.put(fill).flip();
        double[] plain = new double[config.rounds()];
        double[] capture = new double[config.rounds()];
        try (CapturedSet set = Sets.open(vm, "set-" + tag, CaptureOptions.DEFAULT);
             FileChannel file = FileChannel.open(plainFile, StandardOpenOption.WRITE)) {
            BlockDevice device = set.devices().get(0);
            runPlain(file, offsets, data);
            runCapture(device, offsets, data);
            for (int r = 0; r < config.rounds(); r++) {
                plain[r] = totalBytes / runPlain(file, offsets, data) / (1 << 20);
                capture[r] = totalBytes / runCapture(device, offsets, data) / (1 << 20);
                log.printf("  %s round %d: plain %.0f MiB/s, capture %.0f MiB/s%n", name, r + 1, plain[r], capture[r]);
            }
        }
        double p = median(plain);
        double c = median(capture);
        double ratio = c / p;
        return new Figure(name, "MiB/s", c, p, ratio, ">= " + target + "x", ratio >= target);
    }

    private static double runPlain(FileChannel file, long[] offsets, ByteBuffer data) throws IOException {
        long start = System.nanoTime();
        for (long offset : offsets) {
            ByteBuffer d = data.duplicate();
            while (d.hasRemaining()) {
                file.write(d, offset + d.position());
            }
        }
        file.force(false);
        return (System.nanoTime() - start) / 1e9;
    }

    private static double runCapture(BlockDevice device, long[] offsets, ByteBuffer data) throws IOException {
        long start = System.nanoTime();
        for (long offset : offsets) {
            device.write(offset, data.duplicate(), false);
        }
        device.flush();
        return (System.nanoTime() - start) / 1e9;
    }

    private Figure rewind(VolumeManager vm) throws IOException {
        long volume = config.rewindVolumeBytes();
        int blockBytes = 4096;
        int changedBlocks = (int) (config.rewindChangedBytes() / blockBytes);
        allocate(dir.resolve("pv-r.img"), volume + (1L << 20));
        vm.createPv("pv-r", dir.resolve("pv-r.img"), null);
        Sets.create(vm, "set-r", List.of("pv:pv-r"), dir.resolve("secondary-r"), ProgressListener.NONE);
        Random rnd = new Random(config.seed() + 1);
        long blocks = volume / blockBytes;
        ByteBuffer data = ByteBuffer.allocateDirect(blockBytes);
        byte[] fill = new byte[blockBytes];
        double[] plain = new double[config.rounds()];
        double[] restore = new double[config.rounds()];
        Path src = dir.resolve("copy-src.img");
        Path dst = dir.resolve("copy-dst.img");
        for (Path p : List.of(src, dst)) {
            allocate(p, volume);
            readThrough(p);
        }
        try (CapturedSet set = Sets.open(vm, "set-r", CaptureOptions.DEFAULT)) {
            BlockDevice device = set.devices().get(0);
            for (int r = 0; r < config.rounds(); r++) {
                long[] changed = new long[changedBlocks];
                for (int i = 0; i < changedBlocks; i++) {
                    changed[i] = (long) (rnd.nextDouble() * blocks) * blockBytes;
                    rnd.nextBytes(fill);
                    data.clear().put(fill).flip();
                    device.write(changed[i], data, false);
                }
                device.flush();
                long target = set.lastSeq();
                for (int i = 0; i < changedBlocks; i++) {
                    rnd.nextBytes(fill);
                    data.clear().put(fill).flip();
                    device.write(changed[i], data, false);
                }
                device.flush();
                set.checkpoint();
                long start = System.nanoTime();
                RestoreResult result = set.restoreInPlace(target, ProgressListener.NONE);
                restore[r] = (System.nanoTime() - start) / 1e9;
                set.checkpoint();
                plain[r] = copyBlocks(src, dst, changed, blockBytes);
                log.printf("  rewind round %d: restore %.3f s (%d bytes in %d ranges), plain copy %.3f s%n", r + 1, restore[r],
                        result.bytesWritten(), result.rangesWritten(), plain[r]);
            }
        }
        double p = median(plain);
        double t = median(restore);
        double ratio = t / p;
        return new Figure("rewind 64 MiB changed of 2 GiB (time)", "s", t, p, ratio, "<= 2.0x", ratio <= 2.0);
    }

    static double copyBlocks(Path src, Path dst, long[] offsets, int blockBytes) throws IOException {
        long[] sorted = offsets.clone();
        Arrays.sort(sorted);
        ByteBuffer buf = ByteBuffer.allocateDirect(blockBytes);
        long start = System.nanoTime();
        try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(dst, StandardOpenOption.WRITE)) {
            for (long offset : sorted) {
                buf.clear();
                while (buf.hasRemaining() && in.read(buf, offset + buf.position()) >= 0) {
                    // fill
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    out.write(buf, offset + buf.position());
                }
            }
            out.force(false);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** Creates a file of {@code sizeBytes} with every block written (zeros), then forces it. */
    static void allocate(Path file, long sizeBytes) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long pos = 0; pos < sizeBytes; pos += zeros.capacity()) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), sizeBytes - pos));
                while (zeros.hasRemaining()) {
                    c.write(zeros, pos + zeros.position());
                }
            }
            c.force(true);
        }
    }

    /** Reads a file end to end, as creating a set's replica reads its PV. */
    static void readThrough(Path file) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            long pos = 0;
            int n;
            while ((n = c.read(buf.clear(), pos)) > 0) {
                pos += n;
            }
        }
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
