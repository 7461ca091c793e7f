/**
 * Restores coordinated with the database: the attachment's stop and start commands
 * ({@link dev.rewind.dbadapters.coordinate.ShellCommand}) around the restore, then waiting for
 * the database and its validation queries ({@link dev.rewind.dbadapters.coordinate.CoordinatedRestore}).
 */
package dev.rewind.dbadapters.coordinate;
