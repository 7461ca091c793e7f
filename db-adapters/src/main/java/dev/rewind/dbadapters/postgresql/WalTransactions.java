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
 * commits them ({@code subxacts:}). Only transactions that create, drop or truncate relation
 * files are tracked, so memory stays small however much WAL streams through.
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

        void absorb(Activity sub) {
            created.putAll(sub.created);
            truncated.addAll(sub.truncated);
            filledBeyondBlockZero.addAll(sub.filledBeyondBlockZero);
        }
    }

    private final Map<Long, Activity> inFlight = new HashMap<>();
    private final Consumer<WalCommit> commits;

    WalTransactions(Consumer<WalCommit> commits) {
        this.commits = commits;
    }

    @Override
    public void accept(WalRecord r) {
        if (r.xid() == 0) {
            return;
        }
        if (r.is("Storage", "CREATE")) {
            String path = r.desc().substring("CREATE ".length()).strip();
            activity(r.xid()).created.put(fileKey(path), path);
        } else if (r.is("Heap", "TRUNCATE")) {
            Matcher m = TRUNCATE_RELIDS.matcher(r.desc());
            if (m.find()) {
                for (String id : m.group(1).strip().split(" ")) {
                    activity(r.xid()).truncated.add(Long.parseLong(id));
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
                    a = new Activity();
                }
                a.absorb(s);
            }
        }
        List<String> dropped = listAfter(r.desc(), "rels: ");
        if (a == null && dropped.isEmpty()) {
            return;
        }
        if (a == null) {
            a = new Activity();
        }
        WalCommit c = new WalCommit(r.xid(), r.lsn(), commitTime(r.desc()), dropped, List.copyOf(a.created.values()), a.truncated,
                a.filledBeyondBlockZero);
        if (c.touchesFiles()) {
            commits.accept(c);
        }
    }

    private Activity activity(long xid) {
        return inFlight.computeIfAbsent(xid, x -> new Activity());
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
