package dev.rewind.dbadapters.api;

import java.time.Instant;

/**
 * A statement {@link DatabaseAdapter#find} found in the database's log: where its commit
 * (PostgreSQL) or event (MariaDB) starts, when it committed, its GTID if the engine has
 * them, and what it did as the log tells it ({@code description}, e.g.
 * {@code TRUNCATE TABLE shop.orders}, {@code DROP TABLE public.t2: transaction 726 drops
 * base/5/16384}, or {@code UPDATE shop.orders: 10000 rows (xid 1234)}). {@code unnamed}: a
 * table was asked for by name and the log does not say which table this statement acted on
 * (a drop of files, or a change of rows in a file, that no sampled name covers); it is listed
 * so nothing is hidden, but it is not a match for that name. {@code rows}: how many rows it
 * updated or deleted where the log counts them (PostgreSQL's UPDATE and DELETE), else 0.
 */
public record FoundStatement(DatabasePosition position, Instant time, String gtid, String description, boolean unnamed, long rows) {

    /** A statement that is what was asked for, with no row count. */
    public FoundStatement(DatabasePosition position, Instant time, String gtid, String description) {
        this(position, time, gtid, description, false, 0);
    }

    /** A statement with no row count. */
    public FoundStatement(DatabasePosition position, Instant time, String gtid, String description, boolean unnamed) {
        this(position, time, gtid, description, unnamed, 0);
    }
}
