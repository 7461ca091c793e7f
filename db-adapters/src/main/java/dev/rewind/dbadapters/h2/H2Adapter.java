package dev.rewind.dbadapters.h2;

import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.JdbcAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.SeqFence;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import java.io.IOException;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The adapter for H2, over JDBC (any {@code jdbc:h2:} URL, also a database on a set in the
 * same process through {@code volumefs.H2OnSet}). A consistent point is {@code CHECKPOINT
 * SYNC} (everything committed is in the file and forced) followed by the set's fence. H2
 * keeps no log position a restore could name: samples are empty, and positions and finding
 * statements are refused with the targets that work instead.
 */
public final class H2Adapter extends JdbcAdapter {
    static final String NO_POSITIONS = "H2 keeps no log position to restore by; use --to-bookmark, --to-time or --to-seq";


    /** The adapter owns {@code pool} and closes it in {@link #close()} when it is AutoCloseable. */
    public H2Adapter(DatabaseAttachment attachment, DataSource pool) {
        super(pool, "H2 at " + attachment.jdbcUrl().split(";", 2)[0]);
    }

    @Override
    public Engine engine() {
        return Engine.H2;
    }

    @Override
    public String checkConnection() {
        return jdbc.withConnection("connecting", c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT H2VERSION()")) {
                rs.next();
                return "H2 " + rs.getString(1);
            }
        });
    }

    @Override
    public ConsistentPoint consistentPoint(String name, SeqFence fence) throws IOException {
        jdbc.withConnection("taking a checkpoint", c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CHECKPOINT SYNC");
            }
            return null;
        });
        return new ConsistentPoint(fence.seqNow(), null, null, "CHECKPOINT SYNC");
    }

    @Override
    public Optional<PositionSample> sample(String setName, SeqFence fence) {
        return Optional.empty();
    }

    @Override
    public java.util.Map<String, String> serverSettings() {
        throw new RewindException("H2 runs inside its application: there is no server for Rewind to start on a sandbox; "
                + "open the sandbox's exports (<set>/<member>@sandbox:NAME) with the application yourself");
    }

    @Override
    public DatabasePosition parsePosition(String text) {
        throw new RewindException(NO_POSITIONS);
    }



    @Override
    public FoundStatements search(StatementQuery query) {
        throw new RewindException("H2 keeps no log to search for statements; use --to-bookmark, --to-time or --to-seq");
    }

    @Override
    public Optional<LogLocation> locate(DatabasePosition position) {
        return Optional.empty();
    }

}
