package dev.rewind.cli.bench;

import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.dbadapters.volumefs.H2OnSet;
import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Sections 3 and 4 of the increments benchmark: the bank ({@link BankWorkload}) on H2 on a
 * fresh set per codec (zstd, lz4, none), the same seeded transfers each time, a cut every
 * {@code bankTransfersPerCut} transfers. Reported per MiB of changed data (the sum over the
 * transactions of the bytes each changed, as the increments count them): the bytes both
 * increments store and the CPU time of the cuts (the cutting thread's own CPU time; a cut runs
 * on the thread that asks for it), then the secondary's growth by part. The load of the
 * accounts before the first transfer is cut first and left out of every figure.
 */
final class IncrementSizeBenchmark {
    private final IncrementsBenchmark.Config config;
    private final Path dir;
    private final PrintStream log;

    IncrementSizeBenchmark(IncrementsBenchmark.Config config, Path dir, PrintStream log) {
        this.config = config;
        this.dir = dir;
        this.log = log;
    }

    /** What one codec's run measured. */
    private record Run(IncrementCodec codec, int transactions, long changedBytes, long storedBytes, long cutCpuNanos,
                       long journalGrowth, long incrementGrowth, long replicaBytes, long seconds) {
    }

    List<IncrementsBenchmark.Row> run(VolumeManager vm) throws Exception {
        List<Run> runs = new ArrayList<>();
        for (IncrementCodec codec : IncrementCodec.values()) {
            runs.add(bank(vm, codec));
        }
        List<IncrementsBenchmark.Row> rows = new ArrayList<>();
        String load = String.format("bank on H2 on a set (%,d accounts, %,d transfers, cut every %d)", config.bankAccounts(),
                config.bankTransfers(), config.bankTransfersPerCut());
        Run none = runs.stream().filter(r -> r.codec() == IncrementCodec.NONE).findFirst().orElseThrow();
        for (Run r : runs) {
            double changedMib = r.changedBytes() / 1048576.0;
            double storedPerMib = r.storedBytes() / changedMib;
            double cpuPerGib = r.cutCpuNanos() / 1e9 / (r.changedBytes() / 1073741824.0);
            rows.add(new IncrementsBenchmark.Row(String.format("%s, %s: both increments' bytes per changed MiB (%d transactions,"
                            + " %.1f MiB changed); CPU s of the cuts per changed GiB", load, r.codec().name().toLowerCase(),
                    r.transactions(), changedMib),
                    String.format("%.0f KiB; %.2f CPU s", storedPerMib / 1024, cpuPerGib),
                    String.format("none: %.0f KiB", none.storedBytes() / (none.changedBytes() / 1048576.0) / 1024),
                    IncrementsBenchmark.ratio(r.storedBytes() / (double) r.changedBytes()
                            / (none.storedBytes() / (double) none.changedBytes())), "-"));
        }
        for (Run r : runs) {
            double changedMib = r.changedBytes() / 1048576.0;
            rows.add(new IncrementsBenchmark.Row(String.format("%s, %s: secondary bytes per changed MiB (journal + increments;"
                            + " the replica is the volume's size)", load, r.codec().name().toLowerCase()),
                    String.format("journal %.2f MiB + increments %.2f MiB = %.2f MiB; replica %d MiB",
                            r.journalGrowth() / 1048576.0 / changedMib, r.incrementGrowth() / 1048576.0 / changedMib,
                            (r.journalGrowth() + r.incrementGrowth()) / 1048576.0 / changedMib, r.replicaBytes() >> 20),
                    "-", "-", "-"));
        }
        return rows;
    }

    private Run bank(VolumeManager vm, IncrementCodec codec) throws Exception {
        String tag = "bank-" + codec.name().toLowerCase();
        long volumeBytes = 256L << 20;
        IncrementsBenchmark.newSet(vm, dir, tag, volumeBytes);
        long start = System.nanoTime();
        try (CapturedSet set = Sets.open(vm, "set-" + tag, CaptureOptions.DEFAULT.withCodec(codec))) {
            String member = set.record().members().get(0).name();
            int transactions = 0;
            long changed = 0;
            long stored = 0;
            long cpu = 0;
            dev.rewind.capture.SetSecondary.Usage before;
            dev.rewind.capture.SetSecondary.Usage after;
            try (H2OnSet h2 = H2OnSet.mount(set, member, "bank");
                 BankWorkload bank = new BankWorkload(h2.jdbcUrl(), config.bankAccounts(), config.seed())) {
                bank.createAccounts();
                set.flush();
                set.cut(CutReason.DEMAND);
                before = set.secondaryUsage();
                for (int done = 0; done < config.bankTransfers(); done += config.bankTransfersPerCut()) {
                    bank.transfer(Math.min(config.bankTransfersPerCut(), config.bankTransfers() - done));
                    set.flush();
                    long cpuStart = IncrementsBenchmark.threadCpuNanos();
                    Optional<Transaction> t = set.cut(CutReason.DEMAND);
                    cpu += IncrementsBenchmark.threadCpuNanos() - cpuStart;
                    if (t.isPresent()) {
                        transactions++;
                        changed += t.get().changedBytes();
                        stored += t.get().forwardStoredBytes() + t.get().backwardStoredBytes();
                    }
                }
                after = set.secondaryUsage();
            }
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            log.printf("  bank %s: %d transactions, %.1f MiB changed, %.1f MiB stored, cuts %.2f CPU s, %d s%n", codec.name().toLowerCase(),
                    transactions, changed / 1048576.0, stored / 1048576.0, cpu / 1e9, seconds);
            return new Run(codec, transactions, changed, stored, cpu, after.journalBytes() - before.journalBytes(),
                    after.incrementBytes() - before.incrementBytes(), after.replicaBytes(), seconds);
        }
    }
}
