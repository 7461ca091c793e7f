package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.CatalogCapture;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind retain SET [--dry-run]}: one retention pass now, as {@code rewind serve} runs
 * every minute. Prints the points that stay (per rule, with the oldest each keeps), the points
 * that go (bookmarks among them by name), and the bytes freed.
 */
@Command(name = "retain", mixinStandardHelpOptions = true,
        description = {"Fade out the points of a set's history that its retention rules no longer keep, and free their space.",
                "The rules are the set's --keep (rewind set update SET --keep ...). The newest point, every point of the every-write "
                        + "history, and the points of sandboxes and running restores always stay. rewind serve runs this every minute."},
        footer = {"", "Examples:", "  rewind set update shop --keep every-write:24h,hourly:7d,daily:90d",
                "  rewind retain shop --dry-run", "  rewind retain shop --json"})
final class RetainCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Option(names = "--dry-run", description = "Show what would stay and go, change nothing.")
    boolean dryRun;

    @Override
    void run(DataDir data, Output out) throws Exception {
        data.volumes().findSet(setName);
        try (CapturedSet set = data.openSet(setName)) {
            RetentionPolicy policy = set.retentionPolicy();
            RetentionPlan plan = set.planRetention();
            int pointsBefore = plan.kept().size() + plan.going().size();
            out.line("set %s: keep %s", setName, policy.text());
            out.line("  points on hand: %d (seq %d .. %d); %d stay, %d go", pointsBefore, set.oldestSeq(), set.history().transactions().lastSeq(),
                    plan.kept().size(), plan.going().size());
            List<Map<String, Object>> rules = new ArrayList<>();
            for (RetentionView.RuleShare share : RetentionView.shares(plan)) {
                out.line("  %s", share.line());
                rules.add(share.json());
            }
            for (long seq : plan.goneForSize()) {
                out.line("  seq %d goes to bring the secondary under --max-size %s", seq, Sizes.format(set.maxSecondaryBytes()));
            }
            if (plan.overMaxBytes() > 0) {
                out.line("  the secondary stays %s over --max-size %s: the every-write history, the newest point and points being read "
                        + "hold the rest (shorten every-write, drop a sandbox, or raise --max-size)", Sizes.format(plan.overMaxBytes()),
                        Sizes.format(set.maxSecondaryBytes()));
            }
            Set<Long> going = new TreeSet<>(plan.going());
            List<Map<String, Object>> bookmarksGoing = new ArrayList<>();
            for (BookmarkRecord b : data.catalog().listBookmarks(setName)) {
                if (going.contains(b.seq())) {
                    out.line("  bookmark %s (seq %d) goes: no rule keeps it any more", b.name(), b.seq());
                    bookmarksGoing.add(Output.map("name", b.name(), "seq", b.seq()));
                }
            }
            int mergedTransactions = 0;
            for (RetentionPlan.Merge m : plan.merges()) {
                mergedTransactions += m.size();
            }
            if (plan.isEmpty()) {
                out.line("  nothing to fade out%s", policy.keepsEveryBoundary()
                        ? ": the policy keeps every transaction boundary (give rules after every-write to fade old ones out)" : "");
            } else {
                out.line("  %s %d oldest transaction(s) and %s %d run(s) of %d transactions into one each; their increments hold %s",
                        dryRun ? "would drop the" : "drops the", plan.dropped(), dryRun ? "would merge" : "merges", plan.merges().size(),
                        mergedTransactions, Sizes.format(plan.affectedStoredBytes()));
            }
            Map<String, Object> json = Output.map("set", setName, "keep", policy.text(), "dryRun", dryRun, "pointsBefore", pointsBefore,
                    "pointsKept", plan.kept().size(), "pointsGoing", plan.going().size(), "oldestKeptSeq",
                    plan.kept().isEmpty() ? null : plan.kept().firstKey(), "rules", rules, "bookmarksGoing", bookmarksGoing,
                    "transactionsDropped", plan.dropped(), "merges", plan.merges().size(), "transactionsMerged", mergedTransactions,
                    "going", plan.going(), "goneForSize", plan.goneForSize(), "overMaxSizeBytes", plan.overMaxBytes());
            if (dryRun) {
                out.line("  dry run: nothing changed");
                json.put("storedBytesAffected", plan.affectedStoredBytes());
            } else if (!plan.isEmpty()) {
                Retention.Result result = CatalogCapture.retain(data.catalog(), set, plan);
                out.line("  done: %d transaction(s) now (were %d); increments of the changed history %s -> %s, %s freed",
                        result.transactionsAfter(), result.transactionsBefore(), Sizes.format(result.storedBytesBefore()),
                        Sizes.format(result.storedBytesAfter()), Sizes.format(result.bytesFreed()));
                json.put("transactionsBefore", result.transactionsBefore());
                json.put("transactionsAfter", result.transactionsAfter());
                json.put("storedBytesBefore", result.storedBytesBefore());
                json.put("storedBytesAfter", result.storedBytesAfter());
                json.put("bytesFreed", result.bytesFreed());
            }
            out.json(json);
        }
    }
}
