package dev.rewind.cli;

import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.Times;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each retention rule keeps of a set's history, as {@code status} and {@code retain} show
 * it: the points it keeps, the oldest of them, and the bytes of increments it holds (those of
 * the transactions that end at its points; a transaction kept by two rules counts for both).
 */
final class RetentionView {
    /** One rule's share: {@code rule} as written ({@code hourly:7d}), or {@code newest}, {@code sandboxes}. */
    record RuleShare(String rule, int points, long oldestSeq, Instant oldestTime, long bytes) {
        Map<String, Object> json() {
            return Output.map("rule", rule, "points", points, "oldestSeq", oldestSeq, "oldestTime",
                    oldestTime == null ? null : Times.format(oldestTime), "bytes", bytes);
        }

        String line() {
            return String.format("%-26s %6d point(s) from seq %d%s, %s", rule, points, oldestSeq,
                    oldestTime == null ? "" : " (" + Output.humanTime(oldestTime) + ")", Sizes.format(bytes));
        }
    }

    private RetentionView() {
    }

    static List<RuleShare> shares(RetentionPlan plan) {
        Map<Long, Transaction> endingAt = new HashMap<>();
        Map<Long, Instant> times = new HashMap<>();
        List<Transaction> transactions = plan.transactions();
        if (!transactions.isEmpty()) {
            times.put(transactions.get(0).firstSeq() - 1, dev.rewind.volumeset.Times.ofMicros(transactions.get(0).boundaryBeforeTimeMicros()));
        }
        for (Transaction t : transactions) {
            endingAt.put(t.lastSeq(), t);
            times.put(t.lastSeq(), t.end());
        }
        Map<String, long[]> rules = new LinkedHashMap<>(); // points, oldest, bytes
        plan.kept().forEach((seq, reasons) -> {
            List<String> counted = new ArrayList<>();
            for (String reason : reasons) {
                int paren = reason.indexOf(" (");
                String rule = reason.startsWith("sandbox ") ? "sandboxes" : paren < 0 ? reason : reason.substring(0, paren);
                if (counted.contains(rule)) {
                    continue;
                }
                counted.add(rule);
                long[] share = rules.computeIfAbsent(rule, r -> new long[] {0, seq, 0});
                share[0]++;
                share[1] = Math.min(share[1], seq);
                Transaction t = endingAt.get(seq);
                share[2] += t == null ? 0 : t.forwardStoredBytes() + t.backwardStoredBytes();
            }
        });
        List<RuleShare> out = new ArrayList<>();
        rules.forEach((rule, s) -> out.add(new RuleShare(rule, (int) s[0], s[1], times.get(s[1]), s[2])));
        return out;
    }
}
