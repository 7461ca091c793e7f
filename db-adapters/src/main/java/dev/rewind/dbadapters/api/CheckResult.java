package dev.rewind.dbadapters.api;

/**
 * What a check query said: it holds when its first row's first column is true or a non-zero
 * number; it fails when that is false, 0 or null, when it returns no row, or when the query
 * itself fails. {@code detail} says what it returned or the database's one-line error
 * ({@code relation "t" does not exist}).
 */
public record CheckResult(boolean holds, String detail) {
}
