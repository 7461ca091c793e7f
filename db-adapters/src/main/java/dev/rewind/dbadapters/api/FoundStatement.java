package dev.rewind.dbadapters.api;

import java.time.Instant;

/**
 * A statement {@link DatabaseAdapter#find} found in the database's log: where its commit
 * (PostgreSQL) or event (MariaDB) starts, when it committed, its GTID if the engine has
 * them, and what it did as the log tells it ({@code description}, e.g.
 * {@code TRUNCATE TABLE shop.orders}, or {@code COMMIT; drops base/5/16398 (pgbench_accounts)}).
 */
public record FoundStatement(DatabasePosition position, Instant time, String gtid, String description) {
}
