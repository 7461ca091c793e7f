package dev.rewind.volumeset.catalog;

/**
 * The database's log position against a set's seq, sampled while the daemon runs: at
 * {@code seq} the volumes hold everything of the log up to {@code durablePosition} (read
 * before the seq) and nothing past {@code boundPosition} (read after it). The orders are the
 * positions as numbers that sort like the log: a PostgreSQL LSN; for MariaDB the binlog file
 * number times 2^40 plus the offset.
 *
 * <p>{@code lineageSeq} is the lineage the sample was taken on: the first seq of the stretch
 * of the set's history that held {@code seq} then (1, or the seq after the writes of the
 * newest restore in place before it); 0 while not yet known (as an adapter reads it). A
 * restore in place starts a new lineage, and the same positions come again on it, so a
 * sample only counts while its seq is still in the history on that same stretch.
 */
public record PositionSample(String setName, long seq, long timeMicros, String durablePosition, long durableOrder,
        String boundPosition, long boundOrder, String gtid, long lineageSeq) {

    /** A sample as an adapter reads it, its lineage not yet known. */
    public PositionSample(String setName, long seq, long timeMicros, String durablePosition, long durableOrder, String boundPosition,
            long boundOrder, String gtid) {
        this(setName, seq, timeMicros, durablePosition, durableOrder, boundPosition, boundOrder, gtid, 0);
    }

    /** This sample, taken on the lineage that starts at {@code firstSeq}. */
    public PositionSample onLineage(long firstSeq) {
        return new PositionSample(setName, seq, timeMicros, durablePosition, durableOrder, boundPosition, boundOrder, gtid, firstSeq);
    }
}
