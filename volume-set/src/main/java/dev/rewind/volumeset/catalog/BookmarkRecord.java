package dev.rewind.volumeset.catalog;

/**
 * A named seq of a set. A consistent bookmark was taken through a database adapter
 * and carries the database's own position (an LSN, binlog coordinates).
 */
public record BookmarkRecord(String setName, String name, long seq, long createdAtMicros, boolean consistent, String dbPosition) {
}
