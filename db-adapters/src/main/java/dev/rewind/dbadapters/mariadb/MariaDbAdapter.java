package dev.rewind.dbadapters.mariadb;

import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.SeqFence;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * PLACEHOLDER on the positions branch only, so that {@link dev.rewind.dbadapters.Adapters}
 * compiles: the real MariaDB adapter is written on its own branch and replaces this file when
 * the branches are merged. Constructing it refuses.
 */
public final class MariaDbAdapter implements DatabaseAdapter {
    private static final String NOT_BUILT = "the MariaDB adapter is not built into this version of Rewind";

    public MariaDbAdapter(DatabaseAttachment attachment, DataSource pool) {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public Engine engine() {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public String checkConnection() {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public ConsistentPoint consistentPoint(String name, SeqFence fence) {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public Optional<PositionSample> sample(String setName, SeqFence fence) {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public DatabasePosition parsePosition(String text) {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public void awaitAcceptingConnections(Duration timeout) {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public void validate(String sql) {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public List<FoundStatement> find(StatementQuery query) {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public Optional<LogLocation> locate(DatabasePosition position) {
        throw new RewindException(NOT_BUILT);
    }

    @Override
    public void close() {
    }
}
