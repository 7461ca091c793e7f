package dev.rewind.dbadapters.api;

import java.nio.file.Path;
import java.time.Instant;

/**
 * What {@code rewind db find} looks for: statements whose text (MariaDB) or effect
 * (PostgreSQL: a DROP TABLE or TRUNCATE shows as a commit that drops relations, an UPDATE or
 * DELETE as the rows it changed) matches {@code sql} (e.g. {@code DROP TABLE},
 * {@code TRUNCATE orders}, {@code UPDATE shop.orders}; case and spacing are ignored),
 * committed at or after {@code since} (null: the oldest log the database still has) and
 * before {@code until} (null: now). {@code relationNames} names the tables a log mentions
 * only by file, as they were before each statement. PostgreSQL only: {@code xid} keeps the
 * one transaction of that id (null: any; with a null {@code sql}, whatever it did), and
 * {@code walArchive} is a directory of archived WAL segments read together with the
 * server's own (null: none).
 */
public record StatementQuery(String sql, Instant since, Instant until, RelationNameHistory relationNames, Long xid, Path walArchive) {

    public StatementQuery {
        relationNames = relationNames == null ? RelationNameHistory.NONE : relationNames;
    }

    /** A query of the server's own log, any transaction. */
    public StatementQuery(String sql, Instant since, Instant until, RelationNameHistory relationNames) {
        this(sql, since, until, relationNames, null, null);
    }

    /** A query with no recorded relation names. */
    public StatementQuery(String sql, Instant since, Instant until) {
        this(sql, since, until, RelationNameHistory.NONE);
    }
}
