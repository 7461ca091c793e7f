package dev.rewind.volumeset.catalog;

/**
 * The database's log position against a set's seq, sampled while the daemon runs: at
 * {@code seq} the volumes hold everything of the log up to {@code durablePosition} (read
 * before the seq) and nothing past {@code boundPosition} (read after it). The orders are the
 * positions as numbers that sort like the log: a PostgreSQL LSN; for MariaDB the binlog file
 * number times 2^40 plus the offset.
 */
public record PositionSample(String setName, long seq, long timeMicros, String durablePosition, long durableOrder,
        String boundPosition, long boundOrder, String gtid) {
}
