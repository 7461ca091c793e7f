package dev.rewind.cli.bench;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.capture.nbd.CapturedSetExports;
import dev.rewind.capture.nbd.NbdServer;
import dev.rewind.capture.sandbox.Sandbox;
import dev.rewind.capture.sandbox.Sandboxes;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;

/**
 * The sandbox benchmark, run by {@code bench/sandbox.sh}, in one process: a set of one member
 * ({@code --volume-mib}, filled once with data) gets a history of 4 KiB records (one write with
 * data in eight, the others write-zeroes, so that a million records fit on a small disk; a cut
 * every {@code --cut-every} records), and at each history length of {@code --histories} it
 * measures the creation of three sandboxes (inside a transaction half way back, at a transaction
 * boundary, and at the write before the newest), then the first read of one of them: opening it
 * and reading 4 KiB at a random offset. Then fio's nbd engine ({@code --fio-seconds} each, 4 KiB,
 * queue depth 16) reads and writes at random on the live export of the set and on a sandbox
 * export of it half way back, served by the same in-process NBD server on loopback.
 *
 * <pre>
 *   SandboxBenchmark --dir DIR [--histories 100000,1000000] [--volume-mib 256] [--cut-every 10000] [--fio-seconds 5]
 * </pre>
 * Prints a table on stdout; progress on stderr. Not a test: the figures depend on the machine's load.
 */
public final class SandboxBenchmark {
    private static final int BLOCK = 4096;
    private static final String SET = "set-sandbox";

    private SandboxBenchmark() {
    }

    private record Config(Path dir, long[] histories, long volumeBytes, long cutEvery, int fioSeconds) {
    }

    public static void main(String[] args) throws Exception {
        Config config = parse(args);
        List<String[]> rows = new ArrayList<>();
        Files.createDirectories(config.dir());
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(config.dir().resolve("data")))) {
            VolumeManager vm = new VolumeManager(catalog);
            IncrementsBenchmark.newSet(vm, config.dir(), "sandbox", config.volumeBytes());
            try (CapturedSet set = Sets.open(vm, SET, CaptureOptions.DEFAULT);
                 Sandboxes sandboxes = Sandboxes.open(config.dir().resolve("sandboxes"), catalog)) {
                BlockDevice live = set.devices().get(0);
                Random r = new Random(0x5A4DL);
                fill(live, r);
                set.cut(CutReason.DEMAND);
                int name = 0;
                for (long history : config.histories()) {
                    grow(set, live, r, history, config.cutEvery());
                    long head = set.lastSeq();
                    long boundary = set.transactions().get(set.transactions().size() / 2).lastSeq();
                    long[] seqs = {head / 2 + config.cutEvery() / 3, boundary, head - 1};
                    double[] createMs = new double[seqs.length];
                    String first = null;
                    for (int i = 0; i < seqs.length; i++) {
                        String sandbox = "b" + name++;
                        long start = System.nanoTime();
                        sandboxes.create(set, sandbox, seqs[i], Long.toString(seqs[i]));
                        createMs[i] = (System.nanoTime() - start) / 1e6;
                        if (first == null) {
                            first = sandbox;
                        }
                    }
                    long start = System.nanoTime();
                    try (Sandbox sb = sandboxes.open(set, first)) {
                        ByteBuffer b = ByteBuffer.allocateDirect(BLOCK);
                        sb.members().get(0).read((long) r.nextInt((int) (config.volumeBytes() / BLOCK)) * BLOCK, b);
                    }
                    double firstReadMs = (System.nanoTime() - start) / 1e6;
                    System.err.printf("history %d: creations %s ms, first read %.2f ms%n", head, Arrays.toString(createMs), firstReadMs);
                    Arrays.sort(createMs);
                    rows.add(new String[] {"sandbox creation, " + head + " writes of history (median of 3; max)",
                            String.format("%.1f ms; %.1f ms", createMs[1], createMs[2]), "< 100 ms, flat"});
                    rows.add(new String[] {"first 4 KiB read after creation (open + read), " + head + " writes of history",
                            String.format("%.2f ms", firstReadMs), "-"});
                    for (int i = name - seqs.length; i < name; i++) {
                        sandboxes.drop(SET, "b" + i);
                    }
                }
                set.flush();
                set.checkpoint();
                rows.addAll(fio(config, set, sandboxes));
            }
        }
        print(config, rows);
    }

    private static Config parse(String[] args) {
        Path dir = null;
        long[] histories = {100_000, 1_000_000};
        long volumeMib = 256;
        long cutEvery = 10_000;
        int fioSeconds = 5;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--dir" -> dir = Path.of(value);
                case "--histories" -> histories = Arrays.stream(value.split(",")).mapToLong(Long::parseLong).toArray();
                case "--volume-mib" -> volumeMib = Long.parseLong(value);
                case "--cut-every" -> cutEvery = Long.parseLong(value);
                case "--fio-seconds" -> fioSeconds = Integer.parseInt(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: SandboxBenchmark --dir DIR [--histories 100000,1000000] [--volume-mib 256] [--cut-every 10000]"
                        + " [--fio-seconds 5]");
            }
            i++;
        }
        if (dir == null) {
            throw new IllegalArgumentException("--dir DIR is required (an empty directory the benchmark may fill)");
        }
        return new Config(dir, histories, volumeMib << 20, cutEvery, fioSeconds);
    }

    /** Writes the whole member once with data, 1 MiB at a time. */
    private static void fill(BlockDevice d, Random r) throws IOException {
        byte[] chunk = new byte[1 << 20];
        for (long pos = 0; pos < d.sizeBytes(); pos += chunk.length) {
            r.nextBytes(chunk);
            d.write(pos, ByteBuffer.wrap(chunk, 0, (int) Math.min(chunk.length, d.sizeBytes() - pos)), false);
        }
    }

    /** Adds 4 KiB records until the history holds {@code target} seqs, cutting every {@code cutEvery}. */
    private static void grow(CapturedSet set, BlockDevice d, Random r, long target, long cutEvery) throws IOException {
        ByteBuffer data = ByteBuffer.allocateDirect(BLOCK);
        byte[] bytes = new byte[BLOCK];
        long blocks = d.sizeBytes() / BLOCK;
        while (set.lastSeq() < target) {
            long off = (long) (r.nextDouble() * blocks) * BLOCK;
            long seq;
            if (r.nextInt(8) == 0) {
                r.nextBytes(bytes);
                data.clear();
                data.put(bytes).flip();
                seq = d.write(off, data, false);
            } else {
                seq = d.writeZeroes(off, BLOCK, false);
            }
            if (seq % cutEvery == 0) {
                set.cut(CutReason.WRITES);
            }
            if (seq % 100_000 == 0) {
                System.err.printf("history: %d of %d writes%n", seq, target);
            }
        }
        set.flush();
    }

    /** fio random read and write, 4 KiB, on the live export and on a sandbox export of the same set. */
    private static List<String[]> fio(Config config, CapturedSet set, Sandboxes sandboxes) throws IOException, InterruptedException {
        long seq = set.lastSeq() / 2;
        sandboxes.create(set, "fio", seq, Long.toString(seq));
        String member = set.devices().get(0).name();
        List<String[]> rows = new ArrayList<>();
        try (NbdServer server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0),
                new CapturedSetExports(Map.of(SET, set), (s, b) -> OptionalLong.empty(), sandboxes), NbdServer.TcpWrites.ANY_CLIENT)) {
            String liveUri = "nbd://127.0.0.1:" + server.port() + "/" + SET + "/" + member;
            String sandboxUri = liveUri + "@" + Sandbox.EXPORT_MARK + "fio";
            for (String rw : List.of("randread", "randwrite")) {
                double liveIops = fioIops(config, liveUri, rw);
                double sandboxIops = fioIops(config, sandboxUri, rw);
                rows.add(new String[] {"fio nbd " + rw + " 4k qd16, " + config.fioSeconds() + " s: sandbox at seq " + seq
                        + " vs live export", String.format("%.0f vs %.0f IOPS = %.2fx", sandboxIops, liveIops, sandboxIops / liveIops),
                        ">= 0.8x"});
            }
        }
        sandboxes.drop(SET, "fio");
        return rows;
    }

    private static double fioIops(Config config, String uri, String rw) throws IOException, InterruptedException {
        List<String> cmd = List.of("fio", "--name=sandbox", "--ioengine=nbd", "--uri=" + uri, "--rw=" + rw, "--bs=4k",
                "--iodepth=16", "--size=" + config.volumeBytes(), "--time_based", "--runtime=" + config.fioSeconds(),
                "--randrepeat=0", "--output-format=terse", "--terse-version=3");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            out = buf.toString(StandardCharsets.UTF_8);
        }
        if (p.waitFor() != 0) {
            throw new IOException("fio failed on " + uri + ": " + out);
        }
        for (String line : out.split("\n")) {
            String[] f = line.split(";");
            if (f.length > 50 && f[0].equals("3")) {
                // terse v3: field 8 is the read IOPS, field 49 the write IOPS (1-based)
                double iops = Double.parseDouble(rw.contains("read") ? f[7] : f[48]);
                System.err.printf("fio %s on %s: %.0f IOPS%n", rw, uri, iops);
                return iops;
            }
        }
        throw new IOException("no terse line in fio's output for " + uri + ": " + out);
    }

    private static void print(Config config, List<String[]> rows) {
        System.out.printf("Sandbox benchmark: one member of %d MiB, a cut every %d records%n", config.volumeBytes() >> 20, config.cutEvery());
        System.out.printf("| %-80s | %-28s | %-14s |%n", "measure", "figure", "target");
        System.out.printf("|%s|%s|%s|%n", "-".repeat(82), "-".repeat(30), "-".repeat(16));
        for (String[] row : rows) {
            System.out.printf("| %-80s | %-28s | %-14s |%n", row[0], row[1], row[2]);
        }
    }
}
