package dev.rewind.dbadapters.api;

import java.nio.file.Path;

/**
 * Where the log record at a position lives on disk: {@code file} (an absolute path on a
 * file system mounted from a member of the set), the byte offset of the record in it, and
 * the bytes the record starts with ({@code expected}, at most one file system block, taken
 * from the file as it is now) so that the write that first put them there can be found.
 */
public record LogLocation(DatabasePosition position, Path file, long fileOffsetBytes, byte[] expected) {
}
