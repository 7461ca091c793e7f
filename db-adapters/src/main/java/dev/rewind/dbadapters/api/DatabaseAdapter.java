package dev.rewind.dbadapters.api;

import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.PositionSample;
import dev.rewind.volumeset.catalog.RelationNames;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What Rewind asks of the database on a set, one implementation per {@link Engine}, each
 * over a small HikariCP pool opened by {@link Adapters#open}. Every method that talks to the
 * database throws a {@link dev.rewind.volumeset.RewindException} with one clear line (wrong
 * credentials, unreachable, query failed) and never changes the set's volumes.
 */
public interface DatabaseAdapter extends AutoCloseable {

    Engine engine();

    /** Connects and returns the server's version line; refuses clearly when it cannot. */
    String checkConnection();

    /**
     * Takes a consistent bookmark named {@code name}: brings the database's files to a
     * consistent state (PostgreSQL: CHECKPOINT and a restore point of that name; MariaDB:
     * BACKUP STAGE up to BLOCK_COMMIT; H2: CHECKPOINT SYNC), calls {@code fence} at that
     * instant for the seq, reads the database's position, and releases whatever it held, also
     * on failure.
     */
    ConsistentPoint consistentPoint(String name, SeqFence fence) throws IOException;

    /**
     * Samples the database's position around the set's seq: reads the durable position, calls
     * {@code fence}, reads the bound position (see {@link PositionSample}). Empty for an
     * engine with no log position (H2).
     */
    Optional<PositionSample> sample(String setName, SeqFence fence) throws IOException;

    /**
     * The names of the database's user tables by the files that hold them, read in one
     * snapshot together with the log position it was read at, and the set's seq then
     * ({@code fence}), for naming the relations a log record mentions only by file
     * ({@link RelationNames}). Empty for an engine whose log carries the names itself.
     */
    default Optional<RelationNames> relationNames(String setName, SeqFence fence) throws IOException {
        return Optional.empty();
    }

    /**
     * A position the user typed ({@code --to-lsn 0/3A0000F8}, {@code --to-binlog
     * mysql-bin.000003:1234}, {@code --to-gtid 0-1-42}); a RewindException saying the expected
     * form when it is not one.
     */
    DatabasePosition parsePosition(String text);

    /** Waits until the database accepts connections and answers, or refuses after {@code timeout}. */
    void awaitAcceptingConnections(Duration timeout);

    /**
     * Runs a validation query. It passes when it runs and its first row's first column (if it
     * returns rows) is not false, 0 or null; otherwise a RewindException naming the query and
     * what it returned or why it failed.
     */
    void validate(String sql);

    /**
     * Runs a check query, as {@code rewind bisect --check} does at each step: whether it holds
     * and what it returned or why it failed (see {@link CheckResult}).
     */
    default CheckResult check(String sql) {
        throw new dev.rewind.volumeset.RewindException("the " + engine().label() + " adapter cannot run check queries");
    }

    /** Statements in the database's log that match {@code query}, oldest first, and the stretch of the log read. */
    FoundStatements search(StatementQuery query) throws IOException;

    /** Statements in the database's log that match {@code query}, oldest first. */
    default List<FoundStatement> find(StatementQuery query) throws IOException {
        return search(query).statements();
    }

    /**
     * Where the log record at {@code position} lives in a file (for finding the exact write
     * that put it on disk); empty when the engine cannot tell (no such file any more, H2); a
     * RewindException naming the nearest record boundaries when no record starts there.
     */
    Optional<LogLocation> locate(DatabasePosition position) throws IOException;

    /**
     * For a statement whose log record is written only after it took effect in the files
     * (MariaDB logs a DDL statement such as TRUNCATE or DROP TABLE after the engine has done
     * it): the position of the last log event before that statement, so that restoring
     * through it excludes the statement. Empty when the log record comes first, as in
     * PostgreSQL's WAL and MariaDB's transactions: there restoring to just before the
     * record's write excludes the statement.
     */
    default Optional<DatabasePosition> loggedAfterItsEffects(DatabasePosition position) throws IOException {
        return Optional.empty();
    }

    /**
     * What the running server says of itself that a private copy of it on a sandbox needs (its
     * data directory, configuration and log paths, server binary, ...), by name; the names are
     * the engine's own ({@code data_directory}, {@code datadir}) plus {@link ServerSettings#SERVER_BINARY}.
     * A RewindException with one line when it cannot (naming the GRANT that is missing), or for
     * an engine that has no server to start.
     */
    default Map<String, String> serverSettings() {
        throw new RewindException(engine().label() + " has no server Rewind can start on a sandbox");
    }

    /** Closes the pool. */
    @Override
    void close();
}
