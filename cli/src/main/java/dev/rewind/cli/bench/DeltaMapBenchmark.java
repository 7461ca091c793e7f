package dev.rewind.cli.bench;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.increments.deltamap.SpanMaps;
import dev.rewind.increments.restore.SetHistory;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Opening a point far back, through merged delta maps against walking every later
 * transaction's increment index. Two sets get the same {@link PageWorkload} (8 KiB pages), cut
 * after every "second" of it, so each holds the same transactions: one keeps spans of
 * {@link SpanMaps#DEFAULT_FANOUT} transactions, the other a fanout no history here fills, which
 * is the walk. For 1e2, 1e3 and 1e4 transactions back it times opening a point and reading one
 * page (the median of five neighbouring points, each a new point-in-time map; spans already on
 * disk), then random 8 KiB reads of the point 1e4 back against the same reads of the live set.
 * Prints a Markdown table on stdout, progress on stderr. Not a test: figures depend on the load.
 */
public final class DeltaMapBenchmark {
    private static final int WALK_FANOUT = 1 << 15;

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: DeltaMapBenchmark DIR [TRANSACTIONS] [VOLUME_MIB] [PAGE_WRITES_PER_TRANSACTION]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int transactions = args.length > 1 ? Integer.parseInt(args[1]) : 10_100;
        long volumeBytes = (args.length > 2 ? Long.parseLong(args[2]) : 256) << 20;
        int pageWrites = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        Files.createDirectories(dir);
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(dir.resolve("data")))) {
            VolumeManager vm = new VolumeManager(catalog);
            IncrementsBenchmark.newSet(vm, dir, "spans", volumeBytes);
            IncrementsBenchmark.newSet(vm, dir, "walk", volumeBytes);
            CaptureOptions options = CaptureOptions.DEFAULT.withCheckpointInterval(java.time.Duration.ZERO);
            try (CapturedSet spans = Sets.open(vm, "set-spans", options);
                 CapturedSet walk = Sets.open(vm, "set-walk", options.withSpanFanout(WALK_FANOUT))) {
                List<BlockDevice> both = List.of(spans.devices().get(0), walk.devices().get(0));
                PageWorkload load = new PageWorkload(volumeBytes, 42);
                load.load(both);
                for (int t = 0; t < transactions; t++) {
                    load.second(both, pageWrites);
                    spans.cut(CutReason.PERIOD);
                    walk.cut(CutReason.PERIOD);
                    if ((t + 1) % 1000 == 0) {
                        System.err.printf("  %d of %d transactions%n", t + 1, transactions);
                    }
                }
                System.out.println("| measure | Rewind (delta maps) | walk of every increment | ratio | target |");
                System.out.println("| --- | --- | --- | --- | --- |");
                for (int back : new int[] {100, 1_000, 10_000}) {
                    if (back + 5 >= spans.transactions().size()) {
                        continue;
                    }
                    double withSpans = openMillis(spans, back);
                    double walking = openMillis(walk, back);
                    System.out.printf("| open a point %,d transactions back and read a page (median of 5) | %.1f ms | %.1f ms | %.2fx | < 100 ms, flat |%n",
                            back, withSpans, walking, walking / withSpans);
                }
                int back = Math.min(10_000, spans.transactions().size() - 1);
                double past = readsPerSecond(spans, point(spans, back), volumeBytes);
                double live = readsPerSecond(spans, -1, volumeBytes);
                System.out.printf("| random 8 KiB reads of the point %,d transactions back vs the live set | %,.0f/s | %,.0f/s (live) | %.2fx | >= 0.8x |%n",
                        back, past, live, past / live);
                System.out.printf("| secondary: span maps / increments | %,d KiB | %,d MiB | | report |%n",
                        spans.history().spans().sizeBytes() >> 10, spans.history().increments().sizeBytes() >> 20);
            }
        }
    }

    /** The boundary {@code back} transactions before the newest. */
    private static long point(CapturedSet set, int back) {
        var all = set.transactions();
        return all.get(all.size() - 1 - back).firstSeq() - 1;
    }

    private static double openMillis(CapturedSet set, int back) throws IOException {
        long[] seqs = new long[5];
        for (int k = 0; k < seqs.length; k++) {
            seqs[k] = point(set, back + k);
        }
        return medianOpenMillis(set, seqs);
    }

    /** The median time of opening each point of {@code seqs} (each a new view) and reading its first page. */
    static double medianOpenMillis(CapturedSet set, long[] seqs) throws IOException {
        double[] ms = new double[seqs.length];
        ByteBuffer page = ByteBuffer.allocate(PageWorkload.PAGE_BYTES);
        for (int k = 0; k < ms.length; k++) {
            long start = System.nanoTime();
            SetHistory.PastView view = set.history().view(seqs[k]);
            page.clear();
            view.read(0, 0, page);
            ms[k] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }

    /** Random page reads for two seconds, of the point at {@code seq} or (-1) of the live set. */
    static double readsPerSecond(CapturedSet set, long seq, long volumeBytes) throws IOException {
        Random r = new Random(7);
        ByteBuffer page = ByteBuffer.allocate(PageWorkload.PAGE_BYTES);
        long pages = volumeBytes / PageWorkload.PAGE_BYTES;
        SetHistory.PastView view = seq < 0 ? null : set.history().view(seq);
        BlockDevice live = set.devices().get(0);
        for (int warm = 0; warm < 2; warm++) {
            long reads = 0;
            long start = System.nanoTime();
            long end = start + 2_000_000_000L;
            while (System.nanoTime() < end) {
                long offset = (long) (r.nextDouble() * pages) * PageWorkload.PAGE_BYTES;
                page.clear();
                if (view != null) {
                    view.read(0, offset, page);
                } else {
                    live.read(offset, page);
                }
                reads++;
            }
            if (warm == 1) {
                return reads / ((System.nanoTime() - start) / 1e9);
            }
        }
        throw new IllegalStateException();
    }
}
