package dev.rewind.cli.quickstart;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.capture.Sets;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.dbadapters.volumefs.H2OnSet;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.manager.VolumeManager;
import dev.rewind.volumeset.Times;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * What {@code rewind quickstart} does, told as it happens: two PVs, a VG, the LVs
 * {@code data} and {@code log}, the set {@code shop}; a bank in H2 on {@code data} with its
 * ledger on {@code log}; a DELETE without WHERE; a restore to the write just before it;
 * and the proof that the bank is whole again.
 */
public final class QuickstartStory {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    /** What happened, for {@code --json} and for tests. */
    public record Result(String dataDir, long mistakeSeq, long restoredToSeq, long restoreFirstSeq, long restoreLastSeq,
                         long bytesRestored, int accountsBefore, long totalBefore, int transfersBefore,
                         int accountsAfterMistake, int accountsAfterRestore, long totalAfterRestore, int transfersAfterRestore,
                         int ledgerEntriesAfterRestore, boolean invariantHolds) {
    }

    private final DataDir data;
    private final int transfers;
    private final PrintWriter out;

    public QuickstartStory(DataDir data, int transfers, PrintWriter out) {
        this.data = data;
        this.transfers = transfers;
        this.out = out;
    }

    private void say(String format, Object... args) {
        if (out != null) {
            out.println(String.format(format, args));
            out.flush();
        }
    }

    public Result run() throws Exception {
        Path root = data.path();
        say("Rewind quickstart, in %s", root);
        say("");
        data.initialize(null, null);
        VolumeManager vm = data.volumes();
        Path disks = Files.createDirectories(root.resolve("disks"));
        vm.createPv("disk1", disks.resolve("disk1.img"), 64 * Sizes.MIB);
        vm.createPv("disk2", disks.resolve("disk2.img"), 64 * Sizes.MIB);
        vm.createVg("vg0", List.of("disk1", "disk2"), 4 * Sizes.MIB);
        vm.createLv("data", "vg0", 64 * Sizes.MIB);
        vm.createLv("log", "vg0", 16 * Sizes.MIB);
        Sets.create(vm, "shop", List.of("vg0/data", "vg0/log"), data.defaultSecondary("shop"), ProgressListener.NONE);
        say("1. Volumes: PVs disk1 and disk2 (64 MiB files) in VG vg0; LVs data (64 MiB, spans both PVs) and log (16 MiB);");
        say("   production volume set 'shop' = vg0/data + vg0/log. From now on every write to them is numbered and journaled.");

        int accountsBefore;
        long totalBefore;
        int transfersBefore;
        long mistakeSeq;
        Instant mistakeTime;
        int accountsAfterMistake;
        try (CapturedSet set = data.openSet("shop")) {
            BlockDevice ledger = set.device("log");
            try (H2OnSet h2 = H2OnSet.mount(set, "data", "bank"); Bank bank = Bank.open(h2.jdbcUrl(), ledger)) {
                bank.createAccounts();
                bank.checkpoint();
                long setupSeq = set.bookmarkPoint(java.util.OptionalLong.empty());
                data.catalog().insertBookmark(new BookmarkRecord("shop", "accounts-opened", setupSeq, Times.micros(data.clock().instant()), false, null));
                say("2. An H2 database on 'data' opens %d accounts of %d each (seq 1..%d; bookmark 'accounts-opened' = seq %d).",
                        Bank.ACCOUNTS, Bank.OPENING_BALANCE, setupSeq, setupSeq);
                bank.transfer(transfers, 7);
                bank.checkpoint();
                set.flush();
                accountsBefore = bank.countAccounts();
                totalBefore = bank.totalBalance();
                transfersBefore = bank.countTransfers();
                say("3. %d bank transfers, each a transaction, each followed by a ledger entry on 'log': now seq %d.",
                        transfers, set.lastSeq());
                say("   %d accounts, total balance %d, %d transfers, %d ledger entries.", accountsBefore, totalBefore, transfersBefore,
                        Bank.countLedger(ledger));

                mistakeTime = data.clock().instant();
                say("4. At %s someone runs:  DELETE FROM account;   -- no WHERE", TIME.format(mistakeTime));
                int deleted = bank.deleteAllAccounts();
                bank.checkpoint();
                accountsAfterMistake = bank.countAccounts();
                say("   %d rows gone; total balance now %d. The database keeps running and writing.", deleted, bank.totalBalance());
                bank.crash();
            }
            set.flush();

            mistakeSeq = set.seqAtTime(mistakeTime);
            say("5. The DBA stops the database and asks Rewind for the last write at or before %s: seq %d.",
                    TIME.format(mistakeTime), mistakeSeq);
            for (long s = Math.min(set.lastSeq(), mistakeSeq + 3); s >= Math.max(1, mistakeSeq - 2); s--) {
                JournalRecord r = set.journalRecord(s);
                say("     seq %6d  %s  %-4s %-6s offset %9d  %6d bytes%s", s, TIME.format(r.time()),
                        set.record().members().get(r.memberIndex()).name(), r.type().name().toLowerCase(), r.offsetBytes(),
                        r.lengthBytes(), s == mistakeSeq ? "   <- last write before the DELETE" : "");
            }

            RestoreResult restore = set.restoreInPlace(mistakeSeq, ProgressListener.NONE);
            say("6. rewind restore shop --to-seq %d: %s rewritten in %d ranges, journaled as seqs %d..%d",
                    mistakeSeq, Sizes.format(restore.bytesWritten()), restore.rangesWritten(), restore.firstSeq(), restore.lastSeq());
            say("   (only blocks changed after seq %d were touched; undo with --to-seq %d).", mistakeSeq, restore.firstSeq() - 1);
            data.catalog().insertRestore(new dev.rewind.volumeset.catalog.RestoreRecord("shop", mistakeSeq, restore.firstSeq(),
                    restore.lastSeq(), restore.bytesWritten(), Times.micros(data.clock().instant())));

            int accountsAfter;
            long totalAfter;
            int transfersAfter;
            int ledgerAfter;
            try (H2OnSet h2 = H2OnSet.mount(set, "data", "bank"); Bank bank = Bank.open(h2.jdbcUrl(), ledger)) {
                accountsAfter = bank.countAccounts();
                totalAfter = bank.totalBalance();
                transfersAfter = bank.countTransfers();
                ledgerAfter = Bank.countLedger(ledger);
            }
            boolean holds = accountsAfter == accountsBefore && totalAfter == totalBefore && transfersAfter == transfersBefore
                    && ledgerAfter == transfersAfter && totalAfter == Bank.ACCOUNTS * Bank.OPENING_BALANCE;
            say("7. H2 starts again on the restored volumes: %d accounts, total balance %d, %d transfers, %d ledger entries.",
                    accountsAfter, totalAfter, transfersAfter, ledgerAfter);
            say("   %s", holds
                    ? "Every row is back, the money adds up, and the two volumes agree with each other."
                    : "MISMATCH: the restored database is not what it was before the mistake.");
            say("");
            say("Look around:  ./rewind --data %s log shop", root);
            say("              ./rewind --data %s status shop", root);
            return new Result(root.toString(), mistakeSeq, mistakeSeq, restore.firstSeq(), restore.lastSeq(), restore.bytesWritten(),
                    accountsBefore, totalBefore, transfersBefore, accountsAfterMistake, accountsAfter, totalAfter, transfersAfter,
                    ledgerAfter, holds);
        }
    }

}
