package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.cli.db.DatabaseLog;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.locate.LogTargets;
import dev.rewind.dbadapters.locate.PositionTarget;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The restore targets in the database's own terms ({@code --to-lsn}, {@code --before-lsn},
 * {@code --to-binlog}, {@code --before-binlog}, {@code --to-gtid}) turned into a seq: the set
 * text must be a position of the option's engine (malformed text is bad usage, checked first), the
 * set must have a database of that engine attached; its adapter parses the position and
 * {@link LogTargets} finds the write.
 */
final class DatabaseTargets {
    private DatabaseTargets() {
    }

    /**
     * The seq; its {@code how} ends with where the log was read when the server did not answer
     * ({@link DatabaseLog}; {@code mount}: the {@code --mount} dir, or null).
     */
    static PositionTarget resolve(DataDir data, CapturedSet set, String option, String text, boolean before, Engine engine, Path mount)
            throws IOException {
        Catalog catalog = data.catalog();
        if (engine == Engine.POSTGRESQL) {
            dev.rewind.dbadapters.postgresql.PostgresAdapter.checkPosition(text);
        } else if (engine == Engine.MARIADB) {
            dev.rewind.dbadapters.mariadb.MariaDbAdapter.checkPosition(text);
        }
        DatabaseAttachment a = AttachedDatabase.of(catalog, set.name());
        if (!a.engine().equals(engine.label())) {
            throw new RewindException(option + " names a " + engine.label() + " position, but the database on set " + set.name()
                    + " is " + a.engine() + "; " + alternatives(a.engine()));
        }
        try (DatabaseLog log = DatabaseLog.open(data, set, a, mount)) {
            DatabaseAdapter adapter = log.adapter();
            DatabasePosition position = adapter.parsePosition(text);
            LogTargets targets = new LogTargets(set, catalog, log.mounts(), adapter);
            PositionTarget t = before ? targets.before(position) : targets.through(position);
            return log.source().map(source -> new PositionTarget(t.seq(), t.exact(), t.how() + "; " + source)).orElse(t);
        }
    }

    private static String alternatives(String engineLabel) {
        if (engineLabel.equals(Engine.POSTGRESQL.label())) {
            return "use --to-lsn or --before-lsn";
        }
        if (engineLabel.equals(Engine.MARIADB.label())) {
            return "use --to-binlog, --before-binlog or --to-gtid";
        }
        return "it keeps no log position to restore by: use --to-bookmark, --to-time or --to-seq";
    }
}
