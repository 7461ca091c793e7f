package dev.rewind.dbadapters.coordinate;

import dev.rewind.increments.restore.RestoreResult;
import java.util.List;

/**
 * What a coordinated restore did: its steps in order, the restore's result (null when it
 * did not run or was refused), whether everything passed, and one line saying so, or what
 * failed, what state the volumes are in and what to do.
 */
public record CoordinatedRestoreReport(List<Step> steps, RestoreResult result, boolean ok, String message) {
    public CoordinatedRestoreReport {
        steps = List.copyOf(steps);
    }
}
