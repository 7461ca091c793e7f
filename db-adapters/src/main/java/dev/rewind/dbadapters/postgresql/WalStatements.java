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
 * </ul>
 *
 * A name narrows the match. Truncated tables keep their OIDs and new files, so the live
 * catalog names them; a dropped table's name is gone from it, so the files a drop removes
 * are named through the mapping the position sampler recorded last before the commit
 * ({@link RelationNameHistory}). A drop none of whose files that mapping names is listed as
 * "unnamed relation &lt;relfilenode&gt;" and, when a name was asked for, marked
 * {@link FoundStatement#unnamed()}: it is never taken for the table asked for.
 */
final class WalStatements {

    /** The live catalog's names for what the WAL mentions; empty or missing where it no longer knows. */
    interface RelationNames {
        /** Qualified names of tables by OID. */
        Map<Long, String> ofRelids(List<Long> relids);

        /** The qualified name of the table or index now stored in the file at {@code path} ({@code base/5/16394}). */
        Optional<String> ofFile(String path);
    }

    private final StatementPattern pattern;
    private final boolean walHasTruncateRecords;
    private final RelationNames names;
    private final RelationNameHistory history;

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
        };
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
