/**
 * The PostgreSQL adapter: consistent bookmarks (a named restore point, then a CHECKPOINT),
 * WAL positions sampled against the set's seq, LSNs as the user types them, statements found
 * in the WAL through {@code pg_waldump}, also in archived segments (a DROP TABLE or TRUNCATE,
 * recognised by what it does to relation files, an UPDATE or DELETE by the rows it changed,
 * since WAL keeps no SQL text), and where the WAL record at an LSN lives
 * in a segment file. Everything else is package-private; only
 * {@link dev.rewind.dbadapters.postgresql.PostgresAdapter} is used from outside.
 */
package dev.rewind.dbadapters.postgresql;
