package dev.rewind.dbadapters.postgresql;

import dev.rewind.dbadapters.api.FoundStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
 * A name narrows the match where the live catalog can still tell: truncated tables keep
 * their OIDs and new files; a dropped table's name is gone, so every relation-dropping
 * commit is listed with the files it dropped.
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

    WalStatements(StatementPattern pattern, boolean walHasTruncateRecords, RelationNames names) {
        this.pattern = pattern;
        this.walHasTruncateRecords = walHasTruncateRecords;
        this.names = names;
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
        String what = pattern.names().isEmpty() ? "DROP" : "DROP (looking for " + String.join(", ", pattern.names())
                + "; a dropped table's name is gone from the catalog)";
        return found(c, what + ": transaction " + c.xid() + " drops " + String.join(" ", c.droppedFiles()));
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
        List<String> known = new ArrayList<>();
        for (String file : c.createdFiles()) {
            names.ofFile(file).ifPresent(known::add);
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
