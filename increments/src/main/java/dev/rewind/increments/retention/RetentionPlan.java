package dev.rewind.increments.retention;

import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.Times;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * What a {@link RetentionPolicy} keeps of the transactions on hand, and what goes: the points
 * (transaction boundaries) that stay, each with the rules and pins that keep it; the oldest
 * transactions, before the oldest point kept, which are dropped; and the runs of adjacent
 * transactions between two kept points, each merged into one. Computed from the transaction
 * log alone, so {@code rewind retain --dry-run} shows exactly what a pass does.
 *
 * <p>Always kept: the newest point, and every boundary younger than the every-write horizon or
 * from the oldest exact seq on (where the journal still holds every write, so that a write
 * there is read from the boundary before it). Older transactions may be merged even while the
 * journal, deleted a segment at a time, still holds their writes: those stay exact, read from
 * the merged transaction's start. The newest transaction is never dropped (the log's newest
 * transaction carries the history's last seq), so when the rules keep no older point its
 * start is kept as well.
 */
public final class RetentionPlan {
    /** What pins a point: a bookmark (kept by the bookmark rules) or a reader of it (always kept). */
    public enum PinKind { BOOKMARK, CONSISTENT_BOOKMARK, READER }

    /**
     * A seq that something names: a bookmark made at {@code made}, or a sandbox, restore or
     * export reading it ({@link PinKind#READER}).
     */
    public record Pin(long seq, PinKind kind, Instant made, String label) {
    }

    /** Transactions {@code fromIndex..toIndex} (of the log's list) become one. */
    public record Merge(int fromIndex, int toIndex) {
        public int size() {
            return toIndex - fromIndex + 1;
        }
    }

    private final List<Transaction> transactions;
    private final NavigableMap<Long, List<String>> kept;
    private final List<Long> going;
    private final int dropped;
    private final List<Merge> merges;
    private final Instant now;
    private final List<Long> goneForSize;
    private final long overMaxBytes;

    private RetentionPlan(List<Transaction> transactions, NavigableMap<Long, List<String>> kept, List<Long> going, int dropped,
                          List<Merge> merges, Instant now, List<Long> goneForSize, long overMaxBytes) {
        this.goneForSize = goneForSize;
        this.overMaxBytes = overMaxBytes;
        this.transactions = transactions;
        this.kept = kept;
        this.going = going;
        this.dropped = dropped;
        this.merges = merges;
        this.now = now;
    }

    /**
     * Applies {@code policy} at {@code now} to {@code transactions} (the log's list, oldest
     * first, whose oldest boundary is {@code firstBoundary}).
     *
     * @param exactFloor the oldest exact seq (a boundary): every boundary from it on stays, and
     *                   every boundary younger than the policy's every-write horizon
     */
    public static RetentionPlan of(List<Transaction> transactions, long firstBoundary, long exactFloor, Instant now,
                                   RetentionPolicy policy, List<Pin> pins) {
        return of(transactions, firstBoundary, exactFloor, now, policy, pins, 0, 0);
    }

    /**
     * As {@link #of(List, long, long, Instant, RetentionPolicy, List)}, and if the secondary holds
     * {@code secondaryBytes}, more than {@code maxBytes} (0: no limit), the oldest points the
     * rules keep go too, oldest first, until what the dropped transactions free brings it under
     * the limit or the oldest point left must stay (the newest, the every-write history, a point
     * something reads): then {@link #overMaxBytes} says by how much it is still over.
     */
    public static RetentionPlan of(List<Transaction> transactions, long firstBoundary, long exactFloor, Instant now,
                                   RetentionPolicy policy, List<Pin> pins, long maxBytes, long secondaryBytes) {
        List<Transaction> list = List.copyOf(transactions);
        NavigableMap<Long, List<String>> kept = new TreeMap<>();
        // the boundaries, with the time each was reached and whether it may be handed out
        int n = list.size();
        long[] boundary = new long[n + 1];
        long[] micros = new long[n + 1];
        boolean[] placeable = new boolean[n + 1];
        boundary[0] = firstBoundary;
        micros[0] = n == 0 ? Times.micros(now) : list.get(0).boundaryBeforeTimeMicros();
        for (int i = 0; i < n; i++) {
            boundary[i + 1] = list.get(i).lastSeq();
            micros[i + 1] = list.get(i).endMicros();
        }
        for (int i = 0; i <= n; i++) {
            placeable[i] = i == n || !list.get(i).startsInsideRestore();
        }
        keep(kept, boundary[n], "newest");
        if (policy.keepsEveryBoundary()) {
            for (int i = 0; i < n; i++) {
                keep(kept, boundary[i], "all transactions");
            }
        }
        long floor = exactFloor;
        if (policy.everyWrite() != null) {
            // past the every-write horizon by time, even where the journal (deleted a segment at a time) still holds the writes
            long horizon = since(Times.micros(now), policy.everyWrite());
            int i = 0;
            while (i < n && micros[i] < horizon) {
                i++;
            }
            floor = Math.max(floor, boundary[i]);
        }
        for (int i = 0; i <= n; i++) {
            if (boundary[i] >= floor) {
                keep(kept, boundary[i], "every-write" + (policy.everyWrite() == null ? "" : ":" + RetentionPolicy.format(policy.everyWrite())));
            }
        }
        long nowMicros = Times.micros(now);
        for (Map.Entry<RetentionPolicy.Rule, Duration> rule : policy.rules().entrySet()) {
            long since = since(nowMicros, rule.getValue());
            String why = rule.getKey().label() + ":" + RetentionPolicy.format(rule.getValue());
            switch (rule.getKey()) {
                case TRANSACTIONS -> {
                    for (int i = 0; i <= n; i++) {
                        if (micros[i] >= since && placeable[i]) {
                            keep(kept, boundary[i], why);
                        }
                    }
                }
                case HOURLY, DAILY, WEEKLY, MONTHLY -> {
                    Map<Long, Integer> newestOfBucket = new LinkedHashMap<>();
                    for (int i = 0; i <= n; i++) {
                        if (micros[i] >= since && placeable[i]) {
                            newestOfBucket.put(bucket(rule.getKey(), micros[i]), i);
                        }
                    }
                    for (int i : newestOfBucket.values()) {
                        keep(kept, boundary[i], why);
                    }
                }
                case BOOKMARKS, CONSISTENT -> {
                    for (Pin p : pins) {
                        boolean counts = p.kind() == PinKind.CONSISTENT_BOOKMARK
                                || p.kind() == PinKind.BOOKMARK && rule.getKey() == RetentionPolicy.Rule.BOOKMARKS;
                        if (counts && Times.micros(p.made()) >= since) {
                            keep(kept, boundaryAtOrBefore(boundary, p.seq()), why + " (bookmark " + p.label() + ")");
                        }
                    }
                }
            }
        }
        for (Pin p : pins) {
            if (p.kind() == PinKind.READER) {
                keep(kept, boundaryAtOrBefore(boundary, p.seq()), p.label());
            }
        }
        if (n > 0 && kept.firstKey() == boundary[n]) {
            // the log keeps at least its newest transaction (its lastSeq is the history's), so its start stays too
            keep(kept, boundary[n - 1], "start of the newest transaction");
        }
        // the oldest transactions, up to the oldest point kept, go; the runs between kept points merge
        int firstKept = 0;
        while (!kept.containsKey(boundary[firstKept])) {
            firstKept++;
        }
        List<Long> goneForSize = new ArrayList<>();
        long overMaxBytes = 0;
        if (maxBytes > 0 && secondaryBytes > maxBytes) {
            java.util.Set<Long> mustStay = new java.util.HashSet<>();
            mustStay.add(boundary[n]);
            if (n > 0) {
                mustStay.add(boundary[n - 1]); // the newest transaction stays, with its start
            }
            for (int i = 0; i <= n; i++) {
                if (boundary[i] >= floor) {
                    mustStay.add(boundary[i]);
                }
            }
            for (Pin p : pins) {
                if (p.kind() == PinKind.READER) {
                    mustStay.add(boundaryAtOrBefore(boundary, p.seq()));
                }
            }
            long projected = secondaryBytes;
            for (int i = 0; i < firstKept; i++) {
                projected -= stored(list.get(i));
            }
            while (projected > maxBytes && !mustStay.contains(boundary[firstKept])) {
                kept.remove(boundary[firstKept]);
                goneForSize.add(boundary[firstKept]);
                int next = firstKept + 1;
                while (!kept.containsKey(boundary[next])) {
                    next++;
                }
                for (int i = firstKept; i < next; i++) {
                    projected -= stored(list.get(i));
                }
                firstKept = next;
            }
            overMaxBytes = Math.max(0, projected - maxBytes);
        }
        List<Long> going = new ArrayList<>();
        for (int i = 0; i <= n; i++) {
            if (!kept.containsKey(boundary[i])) {
                going.add(boundary[i]);
            }
        }
        List<Merge> merges = new ArrayList<>();
        int runStart = firstKept; // index of the first transaction after the last kept point
        for (int i = firstKept; i < n; i++) {
            if (kept.containsKey(boundary[i + 1])) {
                if (i > runStart) {
                    merges.add(new Merge(runStart, i));
                }
                runStart = i + 1;
            }
        }
        return new RetentionPlan(list, kept, going, firstKept, merges, now, goneForSize, overMaxBytes);
    }

    /**
     * Whether {@code policy} keeps what {@code pin} names at {@code now}: a reader always; a
     * bookmark while a bookmark rule (or, for a consistent one, the consistent rule) is younger
     * than it, or always when the policy keeps every boundary.
     */
    public static boolean keeps(RetentionPolicy policy, Pin pin, Instant now) {
        if (pin.kind() == PinKind.READER || policy.keepsEveryBoundary()) {
            return true;
        }
        long made = Times.micros(pin.made());
        long nowMicros = Times.micros(now);
        Duration bookmarks = policy.rules().get(RetentionPolicy.Rule.BOOKMARKS);
        Duration consistent = policy.rules().get(RetentionPolicy.Rule.CONSISTENT);
        return bookmarks != null && made >= since(nowMicros, bookmarks)
                || pin.kind() == PinKind.CONSISTENT_BOOKMARK && consistent != null && made >= since(nowMicros, consistent);
    }

    private static long since(long nowMicros, Duration d) {
        if (d.equals(RetentionPolicy.FOREVER)) {
            return Long.MIN_VALUE;
        }
        long m = d.toSeconds() >= Long.MAX_VALUE / 2_000_000 ? Long.MAX_VALUE / 2 : d.toNanos() / 1000;
        return nowMicros - m;
    }

    /** The hour, day, week (from Monday) or month of a time, UTC, as a number. */
    static long bucket(RetentionPolicy.Rule rule, long micros) {
        long seconds = Math.floorDiv(micros, 1_000_000L);
        long day = Math.floorDiv(seconds, 86_400L);
        return switch (rule) {
            case HOURLY -> Math.floorDiv(seconds, 3600L);
            case DAILY -> day;
            case WEEKLY -> Math.floorDiv(day + 3, 7); // 1970-01-01 was a Thursday
            case MONTHLY -> {
                LocalDate date = LocalDate.ofEpochDay(day);
                yield date.getYear() * 12L + date.getMonthValue();
            }
            default -> throw new IllegalArgumentException(rule + " has no buckets");
        };
    }

    private static long boundaryAtOrBefore(long[] boundary, long seq) {
        int lo = 0;
        int hi = boundary.length - 1;
        int found = 0;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (boundary[mid] <= seq) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return boundary[found];
    }

    private static void keep(NavigableMap<Long, List<String>> kept, long boundary, String why) {
        List<String> reasons = kept.computeIfAbsent(boundary, b -> new ArrayList<>());
        if (!reasons.contains(why)) {
            reasons.add(why);
        }
    }

    /** Whether the pass changes nothing. */
    public boolean isEmpty() {
        return dropped == 0 && merges.isEmpty();
    }

    /** The transactions the plan was made from (the log's list then). */
    public List<Transaction> transactions() {
        return transactions;
    }

    /** The points that stay, oldest first, each with what keeps it. */
    public NavigableMap<Long, List<String>> kept() {
        return Collections.unmodifiableNavigableMap(kept);
    }

    /** The points that go, oldest first. */
    public List<Long> going() {
        return Collections.unmodifiableList(going);
    }

    /** How many of the oldest transactions are dropped whole. */
    public int dropped() {
        return dropped;
    }

    /** The runs of transactions merged into one each. */
    public List<Merge> merges() {
        return Collections.unmodifiableList(merges);
    }

    /** The points the rules keep that go to bring the secondary under its size limit, oldest first. */
    public List<Long> goneForSize() {
        return Collections.unmodifiableList(goneForSize);
    }

    /** How far over its size limit the secondary stays once the pass is done (0: under it, or no limit). */
    public long overMaxBytes() {
        return overMaxBytes;
    }

    public Instant now() {
        return now;
    }

    /** The index of the newest transaction the pass changes, or -1. */
    public int lastAffectedIndex() {
        int last = dropped - 1;
        for (Merge m : merges) {
            last = Math.max(last, m.toIndex());
        }
        return last;
    }

    /** Bytes the increments of the transactions the pass drops or merges hold now. */
    public long affectedStoredBytes() {
        long total = 0;
        for (int i = 0; i < dropped; i++) {
            total += stored(transactions.get(i));
        }
        for (Merge m : merges) {
            for (int i = m.fromIndex(); i <= m.toIndex(); i++) {
                total += stored(transactions.get(i));
            }
        }
        return total;
    }

    private static long stored(Transaction t) {
        return t.forwardStoredBytes() + t.backwardStoredBytes();
    }
}
