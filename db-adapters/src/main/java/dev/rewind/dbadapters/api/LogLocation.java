package dev.rewind.dbadapters.api;

import java.nio.file.Path;

/**
 * Where the log record at a position lives on disk: {@code file} (an absolute path on a
 * file system mounted from a member of the set), the byte offset of the record in it, and
 * the bytes the record starts with ({@code expected}, at most one file system block, taken
 * from the file as it is now) so that the write that first put them there can be found.
 * {@code growsByAppending} says the file's size grows as the log is written (MariaDB's
 * binlog), so its new bytes are part of the file only once the file system has committed the
 * new size; false for a file written in place at a fixed size (PostgreSQL's WAL segments).
 */
public record LogLocation(DatabasePosition position, Path file, long fileOffsetBytes, byte[] expected, boolean growsByAppending) {
}
