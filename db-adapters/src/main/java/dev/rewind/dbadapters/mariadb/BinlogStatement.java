package dev.rewind.dbadapters.mariadb;

import java.time.Duration;
import java.time.Instant;

/**
 * A statement a binlog records with its text: a Query event (DDL such as {@code TRUNCATE},
 * or a statement logged as text) or the Annotate_rows event that carries a row-logged DML
 * statement's text. {@code position} is where the event starts, {@code gtid} the GTID of the
 * transaction it belongs to (null if the file has none before it), and {@code time} the
 * statement's start: to the microsecond when the binlog has them ({@code exactTime}),
 * otherwise the whole second it began in.
 */
record BinlogStatement(BinlogPosition position, Instant time, boolean exactTime, String gtid, String text) {

    /** Whether it may have started at or after {@code since} (null: no bound), given the binlog's time resolution. */
    boolean mayStartAtOrAfter(Instant since) {
        if (since == null) {
            return true;
        }
        Instant latest = exactTime ? time : time.plus(Duration.ofSeconds(1)).minusNanos(1000);
        return !latest.isBefore(since);
    }

    /** Whether it started before {@code until} (null: no bound). */
    boolean startsBefore(Instant until) {
        return until == null || time.isBefore(until);
    }
}
