package dev.rewind.volumeset.catalog;

/**
 * The catalog's copy of one transaction of a set: its seq range, times (microseconds since
 * the epoch), writes and bytes, why it was cut, how its increments are compressed, what they
 * hold and store, and their file names in the set's increments directory. The secondary's
 * transaction log is the truth; this row mirrors it for queries.
 */
public record TransactionRecord(String setName, long id, long firstSeq, long lastSeq, long startMicros, long endMicros,
                                long writes, long bytes, String reason, String codec, int extentCount,
                                long forwardStoredBytes, long backwardStoredBytes, long changedBytes,
                                String forwardFile, String backwardFile) {
}
