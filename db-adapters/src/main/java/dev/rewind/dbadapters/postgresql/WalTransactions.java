package dev.rewind.dbadapters.postgresql;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Groups WAL records by transaction and, at each COMMIT, hands on what the transaction did to
 * relation files ({@link WalCommit}); subtransactions are folded into the transaction that
 * commits them ({@code subxacts:}). Only transactions in flight are held, and of committed
 * ones only those that create, drop or truncate relation files are handed on, and, when
 * counting rows, those that update or delete rows (with the count per relation file and their
 * first record's LSN), so memory stays small however much WAL streams through.
 */
final class WalTransactions implements Consumer<WalRecord> {
    private static final Pattern COMMIT = Pattern.compile("COMMIT (\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,6})?) (\\S+)");
    private static final Pattern TRUNCATE_RELIDS = Pattern.compile("\\brelids ((?:\\d+ ?)+)");
    private static final DateTimeFormatter TIME = new DateTimeFormatterBuilder().appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.MICRO_OF_SECOND, 1, 6, true).optionalEnd().toFormatter();

    /** What one transaction (or subtransaction) did so far. */
    private static final class Activity {
        final Map<String, String> created = new LinkedHashMap<>(); // database/fileNode -> path
        final List<Long> truncated = new ArrayList<>();
        final Set<String> filledBeyondBlockZero = new HashSet<>();
        final Map<String, WalCommit.RowChanges> rows = new HashMap<>(); // database/fileNode -> rows changed
        Lsn firstLsn;

        Activity(Lsn firstLsn) {
            this.firstLsn = firstLsn;
        }

        void absorb(Activity sub) {
            created.putAll(sub.created);
            truncated.addAll(sub.truncated);
            filledBeyondBlockZero.addAll(sub.filledBeyondBlockZero);
            sub.rows.forEach((file, changes) -> rows.merge(file, changes, WalCommit.RowChanges::plus));
            if (sub.firstLsn.compareTo(firstLsn) < 0) {
                firstLsn = sub.firstLsn;
            }
        }
    }

    private static final WalCommit.RowChanges ONE_UPDATE = new WalCommit.RowChanges(1, 0);
    private static final WalCommit.RowChanges ONE_DELETE = new WalCommit.RowChanges(0, 1);

    private final Map<Long, Activity> inFlight = new HashMap<>();
    private final Consumer<WalCommit> commits;
    private final boolean countRows;

    /** Hands on the commits of transactions that create, drop or truncate relation files. */
    WalTransactions(Consumer<WalCommit> commits) {
        this(commits, false);
    }

    /** {@code countRows}: also count the rows each transaction updates and deletes, and hand on those that change any. */
    WalTransactions(Consumer<WalCommit> commits, boolean countRows) {
        this.commits = commits;
        this.countRows = countRows;
    }

    @Override
    public void accept(WalRecord r) {
        if (r.xid() == 0) {
            return;
        }
        if (countRows && !r.is("Transaction", "COMMIT") && !r.is("Transaction", "ABORT")) {
            Activity a = activity(r);
            r.rowChange().ifPresent(change -> a.rows.merge(change.getValue().fileKey(),
                    change.getKey() == WalRecord.RowChange.UPDATE ? ONE_UPDATE : ONE_DELETE, WalCommit.RowChanges::plus));
        }
        if (r.is("Storage", "CREATE")) {
            String path = r.desc().substring("CREATE ".length()).strip();
            activity(r).created.put(fileKey(path), path);
        } else if (r.is("Heap", "TRUNCATE")) {
            Matcher m = TRUNCATE_RELIDS.matcher(r.desc());
            if (m.find()) {
                for (String id : m.group(1).strip().split(" ")) {
                    activity(r).truncated.add(Long.parseLong(id));
                }
            }
        } else if (r.is("Transaction", "COMMIT")) {
            commit(r);
        } else if (r.is("Transaction", "ABORT")) {
            inFlight.remove(r.xid());
            for (long sub : listAfter(r.desc(), "subxacts: ").stream().map(Long::parseLong).toList()) {
                inFlight.remove(sub);
            }
        } else {
            Activity a = inFlight.get(r.xid());
            if (a != null && !a.created.isEmpty()) {
                for (WalRecord.BlockRef ref : r.blockRefs()) {
                    String key = ref.database() + "/" + ref.fileNode();
                    if (ref.block() > 0 && a.created.containsKey(key)) {
                        a.filledBeyondBlockZero.add(a.created.get(key));
                    }
                }
            }
        }
    }

    private void commit(WalRecord r) {
        Activity a = inFlight.remove(r.xid());
        for (String sub : listAfter(r.desc(), "subxacts: ")) {
            Activity s = inFlight.remove(Long.parseLong(sub));
            if (s != null) {
                if (a == null) {
                    a = new Activity(s.firstLsn);
                }
                a.absorb(s);
            }
        }
        List<String> dropped = listAfter(r.desc(), "rels: ");
        if (a == null && dropped.isEmpty()) {
            return;
        }
        if (a == null) {
            a = new Activity(r.lsn());
        }
        WalCommit c = new WalCommit(r.xid(), r.lsn(), commitTime(r.desc()), dropped, List.copyOf(a.created.values()), a.truncated,
                a.filledBeyondBlockZero, a.firstLsn, a.rows);
        if (c.touchesFiles() || c.changesRows()) {
            commits.accept(c);
        }
    }

    /** The activity of the record's transaction, begun at this record if it is its first. */
    private Activity activity(WalRecord r) {
        return inFlight.computeIfAbsent(r.xid(), x -> new Activity(r.lsn()));
    }

    /** A created file as {@code database/fileNode}, the way block references name it ({@code base/5/16394} → {@code 5/16394}). */
    static String fileKey(String path) {
        String[] parts = path.split("/");
        return parts.length >= 2 ? parts[parts.length - 2] + "/" + parts[parts.length - 1] : path;
    }

    /** The space-separated items after {@code label} up to the next {@code ;} of a description. */
    static List<String> listAfter(String desc, String label) {
        int at = desc.indexOf(label);
        if (at < 0) {
            return List.of();
        }
        int end = desc.indexOf(';', at);
        String items = desc.substring(at + label.length(), end < 0 ? desc.length() : end).strip();
        return items.isEmpty() ? List.of() : List.of(items.split("\\s+"));
    }

    /** The commit time of a COMMIT description, e.g. {@code COMMIT 2026-11-26 05:11:20.269601 UTC; ...}. */
    static Instant commitTime(String desc) {
        Matcher m = COMMIT.matcher(desc);
        if (!m.lookingAt()) {
            throw new IllegalArgumentException("not a COMMIT description: " + desc);
        }
        ZoneId zone;
        try {
            zone = ZoneId.of(m.group(2), ZoneId.SHORT_IDS);
        } catch (RuntimeException e) {
            zone = ZoneOffset.UTC; // pg_waldump runs with TZ=UTC
        }
        return LocalDateTime.parse(m.group(1), TIME).atZone(zone).toInstant();
    }
}
