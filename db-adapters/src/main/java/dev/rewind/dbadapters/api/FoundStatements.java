package dev.rewind.dbadapters.api;

import java.util.List;

/**
 * What {@link DatabaseAdapter#search} found, oldest first, and the stretch of the log it read:
 * from {@code searchedFrom} up to {@code searchedTo} (null for both when the database has
 * no log to read).
 */
public record FoundStatements(List<FoundStatement> statements, DatabasePosition searchedFrom, DatabasePosition searchedTo) {
    public FoundStatements {
        statements = List.copyOf(statements);
    }
}
