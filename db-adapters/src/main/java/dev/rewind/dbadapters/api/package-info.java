/**
 * What Rewind asks of a database on a set, whatever the engine: the
 * {@link dev.rewind.dbadapters.api.DatabaseAdapter} interface, positions in the database's
 * own terms ({@link dev.rewind.dbadapters.api.DatabasePosition}), consistent points, found
 * statements, where a log record lives on disk, credentials (a file or an environment
 * variable, never argv) and the HikariCP pool every adapter uses.
 */
package dev.rewind.dbadapters.api;
