package dev.rewind.cli.bench;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The transactions benchmark of issue 12, in process on sets made in one directory, printed as
 * one Markdown table (progress on stderr):
 * <ol>
 *   <li>4 KiB random writes through the capture path while a thread cuts every second, against
 *       the same writes with no cuts;</li>
 *   <li>cut throughput: changed MiB per second of {@code cut()}, per codec, against copying
 *       the same 4 KiB blocks from one file to another and forcing it;</li>
 *   <li>and 4. the bank on H2 on a set ({@link IncrementSizeBenchmark});</li>
 *   <li>a restore an hour of load back, through increments against through the journal
 *       alone ({@link HourBackRestoreBenchmark}).</li>
 * </ol>
 * Run by {@code bench/increments.sh}: {@code IncrementsBenchmark [--quick] [--sections 125] DIR}. Not a test:
 * the figures depend on the machine and its load.
 */
public final class IncrementsBenchmark {

    /** Sizes of a run. */
    record Config(long volumeBytes, long writeSeconds, long cutChangedBytes, int rounds, int bankAccounts, int bankTransfers,
                  int bankTransfersPerCut, long restoreVolumeBytes, int secondsBefore, int secondsAfter, int pageWritesPerSecond,
                  long seed) {
        static Config full() {
            return new Config(1L << 30, 10, 128L << 20, 3, 100_000, 20_000, 500, 256L << 20, 600, 3600, 32, 42);
        }

        static Config quick() {
            return new Config(128L << 20, 4, 16L << 20, 1, 10_000, 1_000, 100, 64L << 20, 60, 300, 16, 42);
        }
    }

    /** One line of the table. */
    record Row(String measure, String rewind, String peer, String ratio, String target) {
    }

    private final Config config;
    private final Path dir;
    private final PrintStream log;

    IncrementsBenchmark(Config config, Path dir, PrintStream log) {
        this.config = config;
        this.dir = dir;
        this.log = log;
    }

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        boolean quick = rest.remove("--quick");
        String sections = "12345";
        int at = rest.indexOf("--sections");
        if (at >= 0 && at + 1 < rest.size()) {
            sections = rest.remove(at + 1);
            rest.remove(at);
        }
        if (rest.size() != 1 || !sections.matches("[1-5]+")) {
            System.err.println("usage: IncrementsBenchmark [--quick] [--sections DIGITS, e.g. 125; 3 and 4 run together] DIR"
                    + " (an empty or new directory)");
            System.exit(2);
        }
        Path dir = Path.of(rest.get(0));
        if (Files.isDirectory(dir)) {
            try (var s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    System.err.println("directory " + dir + " is not empty; give an empty or new directory");
                    System.exit(2);
                }
            }
        }
        List<Row> rows = new IncrementsBenchmark(quick ? Config.quick() : Config.full(), dir, System.err).run(sections);
        System.out.println("| measure | Rewind | against | ratio | target |");
        System.out.println("| --- | --- | --- | --- | --- |");
        for (Row r : rows) {
            System.out.printf("| %s | %s | %s | %s | %s |%n", r.measure(), r.rewind(), r.peer(), r.ratio(), r.target());
        }
    }

    List<Row> run(String sections) throws Exception {
        Files.createDirectories(dir);
        List<Row> rows = new ArrayList<>();
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(dir.resolve("data")))) {
            VolumeManager vm = new VolumeManager(catalog);
            if (sections.contains("1")) {
                rows.add(writesWithCuts(vm));
            }
            if (sections.contains("2")) {
                rows.addAll(cutThroughput(vm));
            }
            if (sections.contains("3") || sections.contains("4")) {
                rows.addAll(new IncrementSizeBenchmark(config, dir, log).run(vm));
            }
            if (sections.contains("5")) {
                rows.addAll(new HourBackRestoreBenchmark(config, dir, log).run(vm));
            }
        }
        return rows;
    }

    /** 1. Random 4 KiB writes for {@code writeSeconds} each, with a cut every second against none, rounds alternating. */
    private Row writesWithCuts(VolumeManager vm) throws IOException, InterruptedException {
        newSet(vm, dir, "w", config.volumeBytes());
        int blockBytes = 4096;
        int ops = 1 << 16;
        long[] offsets = new long[ops];
        Random rnd = new Random(config.seed());
        long blocks = config.volumeBytes() / blockBytes;
        for (int i = 0; i < ops; i++) {
            offsets[i] = (long) (rnd.nextDouble() * blocks) * blockBytes;
        }
        ByteBuffer data = ByteBuffer.allocateDirect(blockBytes);
        byte[] fill = new byte[blockBytes];
        rnd.nextBytes(fill);
        data.put(fill).flip();
        double[] off = new double[config.rounds()];
        double[] on = new double[config.rounds()];
        int cuts = 0;
        long nanos = config.writeSeconds() * 1_000_000_000L;
        try (CapturedSet set = Sets.open(vm, "set-w", CaptureOptions.DEFAULT)) {
            BlockDevice device = set.devices().get(0);
            writeFor(device, offsets, data, nanos / 4);
            for (int r = 0; r < config.rounds(); r++) {
                set.cut(CutReason.DEMAND);
                off[r] = writeFor(device, offsets, data, nanos);
                set.cut(CutReason.DEMAND);
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger made = new AtomicInteger();
                Thread cutter = new Thread(() -> cutEverySecond(set, stop, made), "bench-cut-every-second");
                cutter.start();
                try {
                    on[r] = writeFor(device, offsets, data, nanos);
                } finally {
                    stop.set(true);
                    cutter.join();
                }
                cuts += made.get();
                log.printf("  writes round %d: no cuts %.0f MiB/s, cut every second %.0f MiB/s (%d cuts)%n", r + 1, off[r], on[r],
                        made.get());
            }
        }
        double o = median(off);
        double c = median(on);
        return new Row(String.format("4 KiB random writes on %d MiB for %d s then flush, cut every second (%d cuts in %d rounds)"
                        + " vs no cuts", config.volumeBytes() >> 20, config.writeSeconds(), cuts, config.rounds()),
                mib(c) + "/s", mib(o) + "/s", ratio(c / o), target(c / o, 0.9, true));
    }

    private void cutEverySecond(CapturedSet set, AtomicBoolean stop, AtomicInteger made) {
        long next = System.nanoTime() + 1_000_000_000L;
        while (!stop.get()) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(Math.min(50, wait / 1_000_000 + 1));
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            next += 1_000_000_000L;
            try {
                if (set.cut(CutReason.DEMAND).isPresent()) {
                    made.incrementAndGet();
                }
            } catch (IOException e) {
                log.println("  cut failed: " + e);
                return;
            }
        }
    }

    /** Writes the offsets over and over for at least {@code nanos}, then flushes; returns MiB/s including the flush. */
    private static double writeFor(BlockDevice device, long[] offsets, ByteBuffer data, long nanos) throws IOException {
        long start = System.nanoTime();
        long written = 0;
        int i = 0;
        while (System.nanoTime() - start < nanos) {
            for (int k = 0; k < 256; k++, i = (i + 1) % offsets.length) {
                device.write(offsets[i], data.duplicate(), false);
                written += data.remaining();
            }
        }
        device.flush();
        return written / ((System.nanoTime() - start) / 1e9) / (1 << 20);
    }

    /** 2. Time of one cut of N MiB of changed distinct 4 KiB blocks, per codec, against a plain copy of those blocks. */
    private List<Row> cutThroughput(VolumeManager vm) throws IOException {
        newSet(vm, dir, "c", config.volumeBytes());
        int blockBytes = 4096;
        int changed = (int) (config.cutChangedBytes() / blockBytes);
        int blocks = (int) (config.volumeBytes() / blockBytes);
        Path src = dir.resolve("copy-src.img");
        Path dst = dir.resolve("copy-dst.img");
        for (Path p : List.of(src, dst)) {
            CaptureBenchmark.allocate(p, config.volumeBytes());
            CaptureBenchmark.readThrough(p);
        }
        Random rnd = new Random(config.seed() + 2);
        ByteBuffer page = ByteBuffer.allocateDirect(blockBytes);
        byte[] fill = new byte[blockBytes];
        List<Row> rows = new ArrayList<>();
        try (CapturedSet set = Sets.open(vm, "set-c", CaptureOptions.DEFAULT)) {
            BlockDevice device = set.devices().get(0);
            for (IncrementCodec codec : IncrementCodec.values()) {
                set.transactionService().codec(codec);
                double[] cut = new double[config.rounds()];
                double[] copy = new double[config.rounds()];
                long changedBytes = 0;
                for (int r = 0; r < config.rounds(); r++) {
                    long[] offsets = distinctBlocks(rnd, blocks, changed, blockBytes);
                    for (long offset : offsets) {
                        rnd.nextBytes(fill);
                        Arrays.fill(fill, blockBytes / 2, blockBytes, (byte) 0);
                        page.clear().put(fill).flip();
                        device.write(offset, page, false);
                    }
                    device.flush();
                    long start = System.nanoTime();
                    Optional<Transaction> t = set.cut(CutReason.DEMAND);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    changedBytes = t.orElseThrow().changedBytes();
                    cut[r] = changedBytes / seconds / (1 << 20);
                    copy[r] = (double) changed * blockBytes / CaptureBenchmark.copyBlocks(src, dst, offsets, blockBytes) / (1 << 20);
                    log.printf("  cut %s round %d: %.0f MiB changed, cut %.0f MiB/s, plain copy %.0f MiB/s%n", codec.name().toLowerCase(),
                            r + 1, changedBytes / 1048576.0, cut[r], copy[r]);
                }
                double c = median(cut);
                double p = median(copy);
                rows.add(new Row(String.format("cut of %d MiB changed in distinct 4 KiB blocks (half random), %s, vs copying those blocks"
                        + " + force", changedBytes >> 20, codec.name().toLowerCase()), mib(c) + "/s", mib(p) + "/s", ratio(c / p),
                        target(c / p, 0.5, true)));
            }
        }
        return rows;
    }

    private static long[] distinctBlocks(Random rnd, int blocks, int count, int blockBytes) {
        int[] all = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            all[i] = i;
        }
        long[] chosen = new long[count];
        for (int i = 0; i < count; i++) {
            int j = i + rnd.nextInt(blocks - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
            chosen[i] = (long) all[i] * blockBytes;
        }
        return chosen;
    }

    // ---- shared by the sections ----

    /** A fully allocated PV file {@code pv-TAG.img} of {@code volumeBytes} (plus label room) and the set {@code set-TAG} on it. */
    static void newSet(VolumeManager vm, Path dir, String tag, long volumeBytes) throws IOException {
        Path pvFile = dir.resolve("pv-" + tag + ".img");
        CaptureBenchmark.allocate(pvFile, volumeBytes + (1L << 20));
        vm.createPv("pv-" + tag, pvFile, null);
        Sets.create(vm, "set-" + tag, List.of("pv:pv-" + tag), dir.resolve("secondary-" + tag), ProgressListener.NONE);
    }

    /** Bytes this process has read through read calls so far ({@code rchar} of /proc/self/io), or -1 where there is none. */
    static long bytesReadByProcess() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
                if (line.startsWith("rchar:")) {
                    return Long.parseLong(line.substring(6).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    static long threadCpuNanos() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static String mib(double mib) {
        return String.format("%.1f MiB", mib);
    }

    static String ratio(double r) {
        return String.format("%.2f×", r);
    }

    static String target(double value, double target, boolean atLeast) {
        boolean met = atLeast ? value >= target : value <= target;
        return (atLeast ? "≥ " : "≤ ") + target + "× " + (met ? "met" : "**missed**");
    }
}
