package dev.rewind.cli.bench;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.SetSecondary;
import dev.rewind.capture.Sets;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Retention over a simulated month (issue 23). Time is a clock the benchmark moves: a cut every
 * 30 simulated seconds, a retention pass every simulated hour. Two sets on sparse 1 GiB members
 * get the same {@link PageWorkload} (8 KiB pages, nine writes in ten to a hot tenth of the
 * pages, one log append per cut): one under {@value #POLICY}, the other keeping everything.
 * Reports, as one Markdown table on stdout (progress on stderr):
 * <ol>
 *   <li>the secondary's bytes by part at the end against keeping everything, and against the
 *       least the kept points need: for each pair of adjacent kept points the distinct pages
 *       changed between them, 8 KiB each, twice (forward and backward), plus every write still
 *       exact (once, as the journal holds it), plus the replica. When the set that keeps
 *       everything runs fewer days than the month, its size at the month's end is its size after
 *       the load plus its measured growth per cut times the month's cuts (it never frees
 *       anything, and the workload is the same every cut);</li>
 *   <li>retention passes: MiB freed per second of pass, against {@code rm -r} of as many bytes
 *       in files of the same average size as the increment files the passes deleted;</li>
 *   <li>opening a point 1e2, 1e3 and 1e4 cuts back and random 8 KiB reads of the point 1e4 cuts
 *       back against the live set ({@link DeltaMapBenchmark}'s measures), on the merged history
 *       at the month's end and on the set that keeps everything at the end of its run.</li>
 * </ol>
 * Not a test: figures depend on the machine's load.
 */
public final class RetentionBenchmark {
    static final String POLICY = "every-write:24h,hourly:7d,daily:30d";
    private static final Duration CUT_PERIOD = Duration.ofSeconds(30);
    private static final int CUTS_PER_HOUR = 120;
    private static final int CUTS_PER_DAY = 2880;
    private static final Instant START = Instant.parse("2030-03-01T00:00:00Z");
    private static final long RM_PEER_CAP_BYTES = 2L << 30;

    /** The clock of the simulated month: stands still until moved. */
    private static final class SimulatedClock extends Clock {
        private volatile Instant now;

        SimulatedClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    /** The page each write went to, by seq. */
    private static final class PagesBySeq {
        private int[] pages = new int[1 << 20];

        void put(long seq, long offsetBytes) {
            if (seq >= pages.length) {
                pages = Arrays.copyOf(pages, (int) Math.max(seq + 1, pages.length * 2L));
            }
            pages[(int) seq] = (int) (offsetBytes / PageWorkload.PAGE_BYTES);
        }

        int page(long seq) {
            return pages[(int) seq];
        }
    }

    /** What the retention passes did, summed. */
    private static final class Passes {
        int count;
        int freeing;
        long nanos;
        long bytesFreed;
        long filesDeleted;
        long filesDeletedBytes;
    }

    /** Opening and reading the past of one set: the rows of {@link DeltaMapBenchmark}. */
    private record PastFigures(String label, List<String> opens, double pastReads, double liveReads, String readPoint) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: RetentionBenchmark DIR [DAYS] [PAGE_WRITES_PER_CUT] [KEEP_ALL_DAYS] [VOLUME_MIB]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        double days = args.length > 1 ? Double.parseDouble(args[1]) : 30;
        int pageWrites = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        double keepAllDays = Math.min(days, args.length > 3 ? Double.parseDouble(args[3]) : 4);
        long volumeBytes = (args.length > 4 ? Long.parseLong(args[4]) : 1024) << 20;
        int cuts = (int) Math.round(days * CUTS_PER_DAY);
        int keepAllCuts = (int) Math.round(keepAllDays * CUTS_PER_DAY);
        if (cuts < 1 || keepAllCuts < 1 || pageWrites < 0) {
            System.err.println("DAYS and KEEP_ALL_DAYS must each hold at least one cut (30 s), PAGE_WRITES_PER_CUT must not be negative");
            System.exit(2);
        }
        Files.createDirectories(dir);
        long wallStart = System.nanoTime();
        SimulatedClock clock = new SimulatedClock(START);
        PagesBySeq pagesBySeq = new PagesBySeq();
        long[] cutSeqs = new long[cuts];
        Passes passes = new Passes();
        List<String> rows = new ArrayList<>();
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(dir.resolve("data")))) {
            VolumeManager vm = new VolumeManager(catalog);
            newSparseSet(vm, dir, "retained", volumeBytes);
            newSparseSet(vm, dir, "all", volumeBytes);
            CaptureOptions options = CaptureOptions.DEFAULT.withClock(clock).withCheckpointInterval(Duration.ZERO);
            CapturedSet keepAll = Sets.open(vm, "set-all", options);
            try (CapturedSet retained = Sets.open(vm, "set-retained", options)) {
                retained.retentionPolicy(RetentionPolicy.parse(POLICY));
                List<BlockDevice> both = List.of(retained.devices().get(0), keepAll.devices().get(0));
                PageWorkload load = new PageWorkload(volumeBytes, 42);
                load.observe(pagesBySeq::put);
                load.load(both);
                retained.cut(CutReason.PERIOD);
                keepAll.cut(CutReason.PERIOD);
                long firstCutSeq = retained.transactions().get(retained.transactions().size() - 1).lastSeq();
                long keepAllAfterLoad = total(keepAll.secondaryUsage());
                SetSecondary.Usage keepAllEnd = null;
                PastFigures keepAllPast = null;
                long[] keepAllCutSeqs = null;
                System.err.printf("loaded %,d MiB in %.0f s; %,d cuts of %d page writes and one log write each follow%n",
                        volumeBytes >> 20, (System.nanoTime() - wallStart) / 1e9, cuts, pageWrites);
                for (int c = 0; c < cuts; c++) {
                    load.second(keepAll == null ? List.of(both.get(0)) : both, pageWrites);
                    clock.advance(CUT_PERIOD);
                    cutSeqs[c] = retained.cut(CutReason.PERIOD).orElseThrow().lastSeq();
                    if (keepAll != null) {
                        keepAll.cut(CutReason.PERIOD);
                    }
                    if ((c + 1) % CUTS_PER_HOUR == 0) {
                        pass(retained, passes);
                    }
                    if (keepAll != null && c + 1 == keepAllCuts) {
                        keepAllEnd = keepAll.secondaryUsage();
                        keepAllCutSeqs = Arrays.copyOf(cutSeqs, c + 1);
                        System.err.printf("the set keeping everything: %,d transactions, %s; measuring its past reads%n",
                                keepAll.transactions().size(), describe(keepAllEnd));
                        keepAllPast = past(keepAll, keepAllCutSeqs, volumeBytes, "keeping everything, after " + fmtDays(keepAllDays) + " d");
                        keepAll.close();
                        keepAll = null;
                        deleteTree(dir.resolve("secondary-all"));
                        Files.deleteIfExists(dir.resolve("pv-all.img"));
                    }
                    if ((c + 1) % CUTS_PER_DAY == 0) {
                        System.err.printf("  day %d of %s: %,d transactions on hand, %s, %.0f s%n", (c + 1) / CUTS_PER_DAY, fmtDays(days),
                                retained.transactions().size(), describe(retained.secondaryUsage()), (System.nanoTime() - wallStart) / 1e9);
                    }
                }
                double runSeconds = (System.nanoTime() - wallStart) / 1e9;
                SetSecondary.Usage end = retained.secondaryUsage();
                List<Transaction> onHand = retained.transactions();
                long[] kept = boundaries(onHand);
                long exactFrom = retained.oldestExactSeq();
                long minimum = minimumBytes(kept, exactFrom, pagesBySeq, volumeBytes);
                PastFigures merged = past(retained, cutSeqs, volumeBytes, "under " + POLICY + ", after " + fmtDays(days) + " d");

                // 1. size
                double keepAllBytes;
                String keepAllHow;
                if (keepAllCuts == cuts) {
                    keepAllBytes = total(keepAllEnd);
                    keepAllHow = "measured";
                } else {
                    double perCut = (double) (total(keepAllEnd) - keepAllAfterLoad) / keepAllCuts;
                    keepAllBytes = keepAllAfterLoad + perCut * cuts;
                    keepAllHow = String.format(Locale.ROOT, "estimated: %s after the load + %,.0f KiB a cut measured over %s d, x %,d cuts",
                            mib(keepAllAfterLoad), perCut / 1024, fmtDays(keepAllDays), cuts);
                }
                long endBytes = total(end);
                double ratio = endBytes / keepAllBytes;
                rows.add(String.format(Locale.ROOT, "| secondary after %s d under `%s` vs keeping everything (%s) | %s | %s | %.3fx | <= 0.15x %s |",
                        fmtDays(days), POLICY, keepAllHow, gib(endBytes), gib((long) keepAllBytes), ratio, verdict(ratio <= 0.15, ratio / 0.15 - 1)));
                rows.add(String.format(Locale.ROOT, "| by part: journal / increments / delta maps / replica | %s | %s (at %s d) | | report |",
                        parts(end), parts(keepAllEnd), fmtDays(keepAllDays)));
                rows.add(String.format(Locale.ROOT, "| secondary vs the least its %,d kept points need (pages changed between adjacent kept points x 8 KiB x 2, + exact writes x 8 KiB, + replica; uncompressed) | %s | %s | %.2fx | report |",
                        kept.length, gib(endBytes), gib(minimum), (double) endBytes / minimum));
                java.util.Map<String, Integer> byRule = new java.util.TreeMap<>();
                for (List<String> why : retained.planRetention().kept().values()) {
                    byRule.merge(why.get(why.size() - 1).replaceAll(" .*", ""), 1, Integer::sum);
                }
                System.err.println("kept points by the last rule that keeps each: " + byRule);
                rows.add(String.format(Locale.ROOT, "| kept points: every boundary of the last 24 h (writes exact from seq %,d) / older | %,d / %,d | | | report |",
                        exactFrom, Arrays.stream(kept).filter(b -> b >= exactFrom).count(), Arrays.stream(kept).filter(b -> b < exactFrom).count()));
                // 2. pass throughput against rm
                double passMiBs = passes.bytesFreed / 1048576.0 / (passes.nanos / 1e9);
                double rmMiBs = rmPeer(dir.resolve("rm-peer"), passes);
                rows.add(String.format(Locale.ROOT, "| retention passes: MiB freed per second of pass (%d passes, %d freed %s in %.1f s) vs `rm -r` of files as large | %.1f MiB/s | %.1f MiB/s | %.2fx | report |",
                        passes.count, passes.freeing, mib(passes.bytesFreed), passes.nanos / 1e9, passMiBs, rmMiBs, passMiBs / rmMiBs));
                // 3. the past after merging
                for (PastFigures f : keepAllPast == null ? List.of(merged) : List.of(merged, keepAllPast)) {
                    for (String open : f.opens()) {
                        rows.add("| " + f.label() + ": " + open);
                    }
                    double r = f.pastReads() / f.liveReads();
                    rows.add(String.format(Locale.ROOT, "| %s: random 8 KiB reads of %s vs the live set | %,.0f/s | %,.0f/s (live) | %.2fx | >= 0.8x %s |",
                            f.label(), f.readPoint(), f.pastReads(), f.liveReads(), r, verdict(r >= 0.8, 1 - r / 0.8)));
                }
                System.out.printf(Locale.ROOT, "A simulated month: %s d, a cut every %d s (%,d cuts), %d page writes of 8 KiB and one log write a cut"
                                + " (%s written), on a %,d MiB member loaded first; a retention pass every simulated hour. Work files on %s (%s). Ran %.0f s.%n%n",
                        fmtDays(days), CUT_PERIOD.toSeconds(), cuts, pageWrites, mib(load.bytesWritten()), volumeBytes >> 20,
                        Files.getFileStore(dir).type(), dir, runSeconds);
                System.out.println("| measure | Rewind | peer | ratio | target |");
                System.out.println("| --- | --- | --- | --- | --- |");
                rows.forEach(System.out::println);
            } finally {
                if (keepAll != null) {
                    keepAll.close();
                }
            }
        }
    }

    /** A set on one sparse PV file of {@code volumeBytes} (plus its label's MiB). */
    private static void newSparseSet(VolumeManager vm, Path dir, String tag, long volumeBytes) throws IOException {
        Path pvFile = dir.resolve("pv-" + tag + ".img");
        try (RandomAccessFile f = new RandomAccessFile(pvFile.toFile(), "rw")) {
            f.setLength(volumeBytes + (1L << 20));
        }
        vm.createPv("pv-" + tag, pvFile, null);
        Sets.create(vm, "set-" + tag, List.of("pv:pv-" + tag), dir.resolve("secondary-" + tag), ProgressListener.NONE);
    }

    /** One retention pass, timed (planning included); what it freed measured on disk before and after. */
    private static void pass(CapturedSet set, Passes passes) throws IOException {
        SetSecondary.Usage u = set.secondaryUsage();
        long before = u.incrementBytes() + u.deltaMapBytes();
        long start = System.nanoTime();
        RetentionPlan plan = set.planRetention();
        Retention.Result result = set.retain(plan);
        passes.nanos += System.nanoTime() - start;
        u = set.secondaryUsage();
        long after = u.incrementBytes() + u.deltaMapBytes();
        passes.count++;
        if (result.transactionsAfter() < result.transactionsBefore()) {
            passes.freeing++;
            passes.bytesFreed += Math.max(0, before - after);
            passes.filesDeleted += 2L * (result.transactionsBefore() - result.transactionsAfter());
            passes.filesDeletedBytes += plan.affectedStoredBytes();
        }
    }

    /**
     * MiB per second of {@code rm -r} of a directory of as many bytes as the passes freed (at
     * most {@link #RM_PEER_CAP_BYTES}), in files of the average size of those the passes deleted,
     * written and synced first.
     */
    private static double rmPeer(Path dir, Passes passes) throws IOException, InterruptedException {
        if (passes.filesDeleted == 0) {
            return Double.NaN;
        }
        long total = Math.min(passes.bytesFreed, RM_PEER_CAP_BYTES);
        int fileBytes = (int) Math.max(4096, passes.filesDeletedBytes / passes.filesDeleted);
        long files = Math.max(1, total / fileBytes);
        Files.createDirectories(dir);
        ByteBuffer fill = ByteBuffer.allocateDirect(fileBytes);
        byte[] junk = new byte[fileBytes];
        new java.util.Random(1).nextBytes(junk);
        fill.put(junk).flip();
        for (long i = 0; i < files; i++) {
            try (FileChannel c = FileChannel.open(dir.resolve("f" + i), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = fill.duplicate();
                while (b.hasRemaining()) {
                    c.write(b);
                }
            }
        }
        run("sync");
        long start = System.nanoTime();
        run("rm", "-r", dir.toString());
        run("sync");
        double seconds = (System.nanoTime() - start) / 1e9;
        System.err.printf("rm -r of %,d files of %,d bytes: %.2f s (rm and sync)%n", files, fileBytes, seconds);
        return files * (double) fileBytes / 1048576.0 / seconds;
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + p.exitValue());
        }
    }

    /** The points on hand: the boundary before the oldest transaction, then each transaction's last seq. */
    private static long[] boundaries(List<Transaction> onHand) {
        long[] b = new long[onHand.size() + 1];
        b[0] = onHand.get(0).firstSeq() - 1;
        for (int i = 0; i < onHand.size(); i++) {
            b[i + 1] = onHand.get(i).lastSeq();
        }
        return b;
    }

    /**
     * The least the kept points need: between each two adjacent kept points the distinct pages
     * changed, 8 KiB each, twice (the content before and after); each write still exact once (a
     * point between two writes needs it); and the replica.
     */
    private static long minimumBytes(long[] kept, long exactFrom, PagesBySeq pages, long volumeBytes) {
        int[] stamp = new int[(int) (volumeBytes / PageWorkload.PAGE_BYTES)];
        long total = volumeBytes;
        for (int i = 1; i < kept.length; i++) {
            long distinct = 0;
            for (long s = kept[i - 1] + 1; s <= kept[i]; s++) {
                int p = pages.page(s);
                if (stamp[p] != i) {
                    stamp[p] = i;
                    distinct++;
                }
                if (s > exactFrom) {
                    total += PageWorkload.PAGE_BYTES;
                }
            }
            total += distinct * 2 * PageWorkload.PAGE_BYTES;
        }
        return total;
    }

    /**
     * Opening points 1e2, 1e3 and 1e4 cuts back (the newest five kept points at or before each,
     * each a new view) and random 8 KiB reads of the point 1e4 cuts back against the live set.
     */
    private static PastFigures past(CapturedSet set, long[] cutSeqs, long volumeBytes, String label) throws IOException {
        long[] kept = boundaries(set.transactions());
        List<String> opens = new ArrayList<>();
        long readSeq = -1;
        String readPoint = null;
        for (int back : new int[] {100, 1_000, 10_000}) {
            if (back >= cutSeqs.length) {
                continue;
            }
            long target = cutSeqs[cutSeqs.length - 1 - back];
            int at = Arrays.binarySearch(kept, target);
            at = at >= 0 ? at : -at - 2;
            if (at < 4) {
                continue;
            }
            long[] seqs = Arrays.copyOfRange(kept, at - 4, at + 1);
            double ms = DeltaMapBenchmark.medianOpenMillis(set, seqs);
            int transactionsBack = kept.length - 1 - at;
            opens.add(String.format(Locale.ROOT, "open the kept point at or before %,d cuts (%.1f h) back, %,d transactions back, and read a page (median of 5) | %.1f ms | | | < 100 ms, flat |",
                    back, back / (double) CUTS_PER_HOUR, transactionsBack, ms));
            readSeq = kept[at];
            readPoint = String.format(Locale.ROOT, "the point %,d cuts back", back);
        }
        double pastReads = readSeq < 0 ? Double.NaN : DeltaMapBenchmark.readsPerSecond(set, readSeq, volumeBytes);
        double liveReads = DeltaMapBenchmark.readsPerSecond(set, -1, volumeBytes);
        return new PastFigures(label, opens, pastReads, liveReads, readPoint);
    }

    private static long total(SetSecondary.Usage u) {
        return u.journalBytes() + u.incrementBytes() + u.deltaMapBytes() + u.replicaBytes();
    }

    private static String parts(SetSecondary.Usage u) {
        return mib(u.journalBytes()) + " / " + mib(u.incrementBytes()) + " / " + mib(u.deltaMapBytes()) + " / " + mib(u.replicaBytes());
    }

    private static String describe(SetSecondary.Usage u) {
        return "journal / increments / delta maps / replica " + parts(u);
    }

    private static String fmtDays(double days) {
        return days == Math.rint(days) ? String.valueOf((long) days) : String.format(Locale.ROOT, "%.2f", days);
    }

    private static String verdict(boolean met, double missedBy) {
        return met ? "met" : String.format(Locale.ROOT, "**missed** by %.0f %%", missedBy * 100);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,.0f MiB", bytes / 1048576.0);
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / 1073741824.0);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
