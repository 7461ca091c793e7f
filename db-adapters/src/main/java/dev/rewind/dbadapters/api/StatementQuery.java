package dev.rewind.dbadapters.api;

import java.time.Instant;

/**
 * What {@code rewind db find} looks for: statements whose text (MariaDB) or effect
 * (PostgreSQL: a DROP TABLE or TRUNCATE shows as a commit that drops relations) matches
 * {@code sql} (e.g. {@code DROP TABLE}, {@code TRUNCATE orders}; case and spacing are
 * ignored), committed at or after {@code since} (null: the oldest log the database still
 * has) and before {@code until} (null: now). {@code relationNames} names the tables a log
 * mentions only by file, as they were before each statement.
 */
public record StatementQuery(String sql, Instant since, Instant until, RelationNameHistory relationNames) {

    public StatementQuery {
        relationNames = relationNames == null ? RelationNameHistory.NONE : relationNames;
    }

    /** A query with no recorded relation names. */
    public StatementQuery(String sql, Instant since, Instant until) {
        this(sql, since, until, RelationNameHistory.NONE);
    }
}
