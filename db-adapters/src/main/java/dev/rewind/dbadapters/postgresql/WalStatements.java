package dev.rewind.dbadapters.postgresql;

import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.RelationNameHistory;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether a committed transaction is the statement {@code db find} asks for, from
 * what it did to relation files, and says so in a {@link FoundStatement} (the COMMIT record's
 * LSN and time):
 *
 * <ul>
 *   <li>TRUNCATE: a Heap TRUNCATE record (PostgreSQL writes one at {@code wal_level =
 *       logical}); below that level, a transaction that swaps relations onto new files and
 *       fills none of them past block 0 (a TRUNCATE leaves the table empty; a rewrite such as
 *       VACUUM FULL of a table of one page looks the same and is listed too).</li>
 *   <li>DROP TABLE: a commit that drops relation files and creates or truncates none.</li>
 *   <li>UPDATE and DELETE: a commit of a transaction that has Heap UPDATE (or HOT_UPDATE)
 *       or DELETE records, one per row, in a relation file; the description counts the rows
 *       per table ({@code UPDATE shop.orders: 10000 rows (xid 1234)}) and so does
 *       {@link FoundStatement#rows()}, so that the transactions that changed most stand out.
 *       Files below {@value #FIRST_NORMAL_OBJECT_ID} are the system catalogs' (a DDL
 *       statement updates and deletes their rows) and are never counted. The name maps give a
 *       table's file, its TOAST table's and its indexes' the table's name; of the files of one
 *       name a transaction changed rows in, the one with UPDATE records, or else the oldest
 *       (lowest file node: PostgreSQL gives a table its file before its TOAST table's), is the
 *       table; DELETE records in the others are TOAST chunks going with their rows and are
 *       not counted as rows.</li>
 *   <li>{@link StatementPattern.Kind#ANY}: every commit of a transaction that did any of
 *       these, described with all of it and the LSN of its first record (a search by
 *       transaction id).</li>
 * </ul>
 *
 * A name narrows the match. Truncated tables keep their OIDs and new files, so the live
 * catalog names them; a dropped table's name is gone from it, so the files a drop removes
 * are named through the mapping the position sampler recorded last before the commit
 * ({@link RelationNameHistory}). A drop none of whose files that mapping names is listed as
 * "unnamed relation &lt;relfilenode&gt;" and, when a name was asked for, marked
 * {@link FoundStatement#unnamed()}: it is never taken for the table asked for. Rows changed
 * in a file are named the same way, by the mapping in force before the commit (a table
 * renamed, truncated or rewritten gets other files, and a later mapping may give its old
 * file node to another table); changes only to files no mapping names are listed as
 * unnamed when a name was asked for, and left out of a bare {@code UPDATE} or
 * {@code DELETE}, which lists changes to named tables.
 *
 * <p>Every statement is placed at its COMMIT record, also an UPDATE or DELETE whose earlier
 * records reached the disk long before: restoring to just before the write of the commit
 * record leaves the transaction's row changes in the WAL (and maybe in the data files, once
 * their WAL was flushed), but without its commit, so PostgreSQL's crash recovery treats it
 * as aborted and the rows are as they were before it. That is the state before the
 * transaction, and it keeps every other transaction that committed while it ran; restoring
 * to before its first record instead would also undo those (the description of a
 * transaction found by its id gives that LSN for whoever wants exactly that).
 */
final class WalStatements {
    /** PostgreSQL's first OID (and file node) for objects not created by initdb: files below it are the system catalogs'. */
    static final long FIRST_NORMAL_OBJECT_ID = 16384;

    /** The live catalog's names for what the WAL mentions; empty or missing where it no longer knows. */
    interface RelationNames {
        /** Qualified names of tables by OID. */
        Map<Long, String> ofRelids(List<Long> relids);

        /** The qualified name of the table or index now stored in the file at {@code path} ({@code base/5/16394}). */
        Optional<String> ofFile(String path);

        /** No live catalog (for what needs none: drops, updates and deletes). */
        RelationNames NONE = new RelationNames() {
            @Override
            public Map<Long, String> ofRelids(List<Long> relids) {
                return Map.of();
            }

            @Override
            public Optional<String> ofFile(String path) {
                return Optional.empty();
            }
        };
    }

    private final StatementPattern pattern;
    private final boolean walHasTruncateRecords;
    private final RelationNames names;
    private final RelationNameHistory history;
    private Map<String, String> namesByPath;
    private Map<String, String> namesByFileKey = Map.of();

    WalStatements(StatementPattern pattern, boolean walHasTruncateRecords, RelationNames names, RelationNameHistory history) {
        this.pattern = pattern;
        this.walHasTruncateRecords = walHasTruncateRecords;
        this.names = names;
        this.history = history;
    }

    /** The statement this commit is, if it is the one asked for. */
    Optional<FoundStatement> match(WalCommit c) {
        return switch (pattern.kind()) {
            case DROP_TABLE -> matchDrop(c);
            case TRUNCATE -> matchTruncate(c);
            case UPDATE, DELETE -> matchRows(c);
            case ANY -> matchAny(c);
        };
    }

    /** The rows one commit changed in one table (or, unnamed, in one file). */
    private record TableRows(String name, boolean named, long updated, long deleted) {
        long rows(StatementPattern.Kind kind) {
            return kind == StatementPattern.Kind.UPDATE ? updated : deleted;
        }
    }

    private Optional<FoundStatement> matchRows(WalCommit c) {
        StatementPattern.Kind kind = pattern.kind();
        List<TableRows> tables = tableRows(c).stream().filter(t -> t.rows(kind) > 0).toList();
        List<TableRows> named = tables.stream().filter(t -> t.named() && (pattern.names().isEmpty() || pattern.namesRelation(t.name())))
                .toList();
        String verb = kind == StatementPattern.Kind.UPDATE ? "UPDATE " : "DELETE FROM ";
        if (!named.isEmpty()) {
            long rows = named.stream().mapToLong(t -> t.rows(kind)).sum();
            String what = String.join(", ", named.stream().map(t -> t.name() + ": " + rowCount(t.rows(kind))).toList());
            return Optional.of(new FoundStatement(c.lsn().position(), c.time(), null, verb + what + " (xid " + c.xid() + ")", false, rows));
        }
        List<TableRows> unnamed = tables.stream().filter(t -> !t.named()).toList();
        if (pattern.names().isEmpty() || unnamed.isEmpty()) {
            return Optional.empty();
        }
        long rows = unnamed.stream().mapToLong(t -> t.rows(kind)).sum();
        String what = String.join(", ", unnamed.stream().map(t -> t.name() + ": " + rowCount(t.rows(kind))).toList());
        return Optional.of(new FoundStatement(c.lsn().position(), c.time(), null, verb.strip() + " of " + what + " (xid " + c.xid() + ")",
                true, rows));
    }

    private Optional<FoundStatement> matchAny(WalCommit c) {
        List<String> parts = new ArrayList<>();
        long rows = 0;
        for (TableRows t : tableRows(c)) {
            if (t.updated() > 0) {
                parts.add("UPDATE " + t.name() + ": " + rowCount(t.updated()));
            }
            if (t.deleted() > 0) {
                parts.add("DELETE FROM " + t.name() + ": " + rowCount(t.deleted()));
            }
            rows += t.updated() + t.deleted();
        }
        if (!c.truncatedRelids().isEmpty()) {
            parts.add("TRUNCATE of relations " + String.join(" ", c.truncatedRelids().stream().map(String::valueOf).toList()));
        }
        if (!c.createdFiles().isEmpty()) {
            parts.add("creates " + String.join(" ", c.createdFiles()));
        }
        if (!c.droppedFiles().isEmpty()) {
            Map<String, String> before = namesBefore(c);
            Set<String> tables = new LinkedHashSet<>();
            c.droppedFiles().forEach(f -> tables.add(before.getOrDefault(WalTransactions.fileKey(f), "unnamed relation " + relfilenode(f))));
            parts.add("drops " + String.join(" ", c.droppedFiles()) + " (" + String.join(", ", tables) + ")");
        }
        if (parts.isEmpty()) {
            parts.add("changes only rows of the system catalogs");
        }
        return Optional.of(new FoundStatement(c.lsn().position(), c.time(), null, "transaction " + c.xid() + " (first record "
                + c.firstLsn().position() + "): " + String.join("; ", parts), false, rows));
    }

    /**
     * The rows {@code c} updated and deleted per table named before its commit (see the class
     * comment for TOAST), then per file no name covers, biggest first; system catalogs left out.
     */
    private List<TableRows> tableRows(WalCommit c) {
        Map<String, String> names = namesBefore(c);
        Map<String, List<Map.Entry<String, WalCommit.RowChanges>>> byName = new java.util.TreeMap<>();
        List<TableRows> out = new ArrayList<>();
        for (Map.Entry<String, WalCommit.RowChanges> e : c.rowChanges().entrySet()) {
            long node = Long.parseLong(relfilenode(e.getKey()));
            if (node < FIRST_NORMAL_OBJECT_ID) {
                continue;
            }
            String name = names.get(e.getKey());
            if (name == null) {
                out.add(new TableRows("unnamed relation " + node, false, e.getValue().updated(), e.getValue().deleted()));
            } else {
                byName.computeIfAbsent(name, n -> new ArrayList<>()).add(e);
            }
        }
        byName.forEach((name, files) -> {
            Map.Entry<String, WalCommit.RowChanges> table = files.stream().filter(f -> f.getValue().updated() > 0).findFirst()
                    .orElseGet(() -> files.stream().min(java.util.Comparator.comparingLong(f -> Long.parseLong(relfilenode(f.getKey()))))
                            .orElseThrow());
            long updated = files.stream().mapToLong(f -> f.getValue().updated()).sum();
            out.add(new TableRows(name, true, updated, table.getValue().deleted()));
        });
        out.sort(java.util.Comparator.comparingLong((TableRows t) -> -(t.updated() + t.deleted())).thenComparing(TableRows::name));
        return out;
    }

    private static String rowCount(long rows) {
        return rows + (rows == 1 ? " row" : " rows");
    }

    /** The names in force before {@code c}'s commit by relation file as {@code database/fileNode}. */
    private Map<String, String> namesBefore(WalCommit c) {
        Map<String, String> byPath = history.before(c.lsn().value()).orElse(Map.of());
        if (byPath != namesByPath) {
            Map<String, String> byKey = new java.util.HashMap<>();
            byPath.forEach((path, name) -> byKey.put(WalTransactions.fileKey(path), name));
            namesByPath = byPath;
            namesByFileKey = byKey;
        }
        return namesByFileKey;
    }

    private Optional<FoundStatement> matchDrop(WalCommit c) {
        if (c.droppedFiles().isEmpty() || !c.createdFiles().isEmpty() || !c.truncatedRelids().isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> before = history.before(c.lsn().value()).orElse(Map.of());
        Set<String> tables = new LinkedHashSet<>();
        List<String> unnamed = new ArrayList<>();
        for (String file : c.droppedFiles()) {
            String name = before.get(file);
            if (name != null) {
                tables.add(name);
            } else {
                unnamed.add("unnamed relation " + relfilenode(file));
            }
        }
        String files = ": transaction " + c.xid() + " drops " + String.join(" ", c.droppedFiles());
        if (tables.isEmpty()) {
            return Optional.of(new FoundStatement(c.lsn().position(), c.time(), null, "DROP of " + String.join(", ", unnamed) + files,
                    !pattern.names().isEmpty()));
        }
        if (!pattern.names().isEmpty() && tables.stream().noneMatch(pattern::namesRelation)) {
            return Optional.empty();
        }
        return found(c, "DROP TABLE " + String.join(", ", tables) + files);
    }

    /** The relfilenode of a relation file path ({@code base/5/16384} → {@code 16384}). */
    static String relfilenode(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private Optional<FoundStatement> matchTruncate(WalCommit c) {
        if (!c.truncatedRelids().isEmpty()) {
            Map<Long, String> known = names.ofRelids(c.truncatedRelids());
            List<String> shown = new ArrayList<>();
            for (long relid : c.truncatedRelids()) {
                shown.add(known.getOrDefault(relid, "relation " + relid));
            }
            if (!narrowedIn(known.values())) {
                return Optional.empty();
            }
            return found(c, "TRUNCATE " + String.join(", ", shown) + ": transaction " + c.xid());
        }
        boolean swapsOntoEmptyFiles = !walHasTruncateRecords && !c.createdFiles().isEmpty() && !c.droppedFiles().isEmpty()
                && c.createdFilesFilledBeyondBlockZero().isEmpty();
        if (!swapsOntoEmptyFiles) {
            return Optional.empty();
        }
        Set<String> known = new LinkedHashSet<>();
        for (String file : c.createdFiles()) {
            names.ofFile(file).ifPresent(known::add);
        }
        Map<String, String> before = history.before(c.lsn().value()).orElse(Map.of());
        for (String file : c.droppedFiles()) {
            Optional.ofNullable(before.get(file)).ifPresent(known::add);
        }
        if (!narrowedIn(known)) {
            return Optional.empty();
        }
        String relations = known.isEmpty() ? "relations no longer in the catalog" : String.join(", ", known);
        return found(c, "TRUNCATE (or a rewrite) of " + relations + ": transaction " + c.xid() + " moves them to new empty files "
                + String.join(" ", c.createdFiles()) + " and drops " + String.join(" ", c.droppedFiles()));
    }

    /** No names asked for, the catalog knows none of the relations, or one of them is asked for. */
    private boolean narrowedIn(java.util.Collection<String> knownNames) {
        return pattern.names().isEmpty() || knownNames.isEmpty() || knownNames.stream().anyMatch(pattern::namesRelation);
    }

    private static Optional<FoundStatement> found(WalCommit c, String description) {
        return Optional.of(new FoundStatement(c.lsn().position(), c.time(), null, description));
    }
}
