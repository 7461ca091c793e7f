package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.CatalogCapture;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.TransactionRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code rewind log SET --transactions} and {@code --transaction ID} print: a set's
 * transactions from its transaction log (the truth; the catalog's rows are brought up to date
 * first), and one transaction with its increment files.
 */
final class TransactionsView {
    private TransactionsView() {
    }

    /** Such as {@code transaction 7: seqs 101..200 (100 writes, 400 KiB), cut by period, zstd 3.1x}. */
    static String summary(Transaction t) {
        return String.format("transaction %d: seqs %d..%d (%d writes, %s), %s, %s %.1fx", t.id(), t.firstSeq(), t.lastSeq(),
                t.writes(), Sizes.format(t.bytes()), t.isMerged() ? "merged by retention from " + t.merged() + " transactions, the last cut by "
                        + t.reason().label() : "cut by " + t.reason().label(), t.codec().settingName(), t.compressionRatio());
    }

    static Map<String, Object> json(Transaction t) {
        return Output.map("id", t.id(), "firstSeq", t.firstSeq(), "lastSeq", t.lastSeq(), "start", Output.humanTime(t.start()),
                "end", Output.humanTime(t.end()), "writes", t.writes(), "bytes", t.bytes(), "reason", t.reason().label(),
                "codec", t.codec().settingName(), "extents", t.extentCount(), "changedBytes", t.changedBytes(),
                "forwardStoredBytes", t.forwardStoredBytes(), "backwardStoredBytes", t.backwardStoredBytes(),
                "compressionRatio", Math.round(t.compressionRatio() * 100) / 100.0, "merged", t.merged());
    }

    static void list(Catalog catalog, CapturedSet set, Output out) {
        CatalogCapture.insertMissing(catalog, set);
        List<Transaction> all = set.transactions();
        out.line("set %s: %d transaction(s); cut rules: %s%s", set.name(), all.size(), set.transactionService().rules().describe(),
                all.stream().anyMatch(Transaction::isMerged) ? "; REASON 'N merged': retention merged N transactions into one, which "
                        + "covers their seqs and keeps only the point at its end" : "");
        out.line("%6s  %21s  %-27s  %-27s  %9s  %10s  %-8s  %-5s  %6s", "ID", "SEQS", "START", "END", "WRITES", "BYTES", "REASON",
                "CODEC", "RATIO");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            Transaction t = all.get(i);
            out.line("%6d  %21s  %-27s  %-27s  %9d  %10s  %-8s  %-5s  %5.1fx", t.id(), t.firstSeq() + ".." + t.lastSeq(),
                    Output.humanTime(t.start()), Output.humanTime(t.end()), t.writes(), Sizes.format(t.bytes()),
                    t.isMerged() ? t.merged() + " merged" : t.reason().label(),
                    t.codec().settingName(), t.compressionRatio());
            rows.add(json(t));
        }
        if (all.isEmpty()) {
            out.line("(no transactions yet; cut one with: rewind cut %s)", set.name());
        }
        out.json(Output.map("set", set.name(), "cutRules", set.transactionService().rules().describe(), "transactions", rows));
    }

    static void show(Catalog catalog, CapturedSet set, long id, Output out) throws IOException {
        CatalogCapture.insertMissing(catalog, set);
        Transaction t = set.history().transactions().byId(id).orElseThrow(() -> new RewindException("set " + set.name()
                + " has no transaction " + id + "; list them with: rewind log " + set.name() + " --transactions"));
        TransactionRecord row = catalog.findTransaction(set.name(), id).orElseThrow();
        Path dir = set.history().increments().dir();
        out.line("set %s: %s", set.name(), summary(t));
        out.line("  from %s to %s; %d extent(s), %s changed", Output.humanTime(t.start()), Output.humanTime(t.end()), t.extentCount(),
                Sizes.format(t.changedBytes()));
        List<Map<String, Object>> increments = new ArrayList<>();
        for (String[] inc : new String[][] {{"forward", row.forwardFile()}, {"backward", row.backwardFile()}}) {
            Path file = dir.resolve(inc[1]);
            long stored = inc[0].equals("forward") ? t.forwardStoredBytes() : t.backwardStoredBytes();
            long fileBytes = Files.exists(file) ? Files.size(file) : -1;
            double ratio = stored == 0 ? 1.0 : (double) t.changedBytes() / stored;
            out.line("  %-8s increment %s: %s stored for %s (%.1fx)%s", inc[0], file, Sizes.format(stored), Sizes.format(t.changedBytes()),
                    ratio, fileBytes < 0 ? "; FILE MISSING" : "");
            increments.add(Output.map("direction", inc[0], "file", file.toString(), "storedBytes", stored, "fileBytes", fileBytes < 0 ? null : fileBytes,
                    "compressionRatio", Math.round(ratio * 100) / 100.0));
        }
        Map<String, Object> json = json(t);
        json.put("increments", increments);
        out.json(Output.map("set", set.name(), "transaction", json));
    }
}
