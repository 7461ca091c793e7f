package dev.rewind.dbadapters.coordinate;

import dev.rewind.increments.restore.RestoreResult;
import java.io.IOException;

/**
 * The restore itself, done by the caller while the database is stopped (a restore in place
 * of the set, through the daemon or the data dir). A {@link dev.rewind.volumeset.RewindException}
 * means it was refused and changed nothing.
 */
@FunctionalInterface
public interface RestoreStep {
    RestoreResult restore() throws IOException;
}
