package dev.rewind.dbadapters.api;

import java.time.Instant;

/**
 * A statement {@link DatabaseAdapter#find} found in the database's log: where its commit
 * (PostgreSQL) or event (MariaDB) starts, when it committed, its GTID if the engine has
 * them, and what it did as the log tells it ({@code description}, e.g.
 * {@code TRUNCATE TABLE shop.orders}, or {@code DROP TABLE public.t2: transaction 726 drops
 * base/5/16384}). {@code unnamed}: a table was asked for by name and the log does not say
 * which table this statement acted on (a drop of files no sampled name covers); it is listed
 * so nothing is hidden, but it is not a match for that name.
 */
public record FoundStatement(DatabasePosition position, Instant time, String gtid, String description, boolean unnamed) {

    /** A statement that is what was asked for. */
    public FoundStatement(DatabasePosition position, Instant time, String gtid, String description) {
        this(position, time, gtid, description, false);
    }
}
