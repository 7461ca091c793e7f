package dev.rewind.dbadapters.api;

import java.util.Map;
import java.util.Optional;

/**
 * The names of a database's tables by the files that hold them, as they were at points of
 * its log: for a log that names a dropped table only by its files (PostgreSQL's WAL).
 */
public interface RelationNameHistory {
    /** None recorded: every lookup is empty. */
    RelationNameHistory NONE = order -> Optional.empty();

    /**
     * The names by file ({@code base/5/16384} → {@code shop.orders}) in force just before the
     * log position {@code order}: the newest mapping read before it; empty when none was.
     */
    Optional<Map<String, String>> before(long order);
}
