package dev.rewind.dbadapters.coordinate;

import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A restore that never pulls volumes from under a live database: stop command → restore →
 * start command → wait until the database accepts connections → each validation query, each
 * step reported with its time as it finishes.
 *
 * <p>When a step fails, the report says what state things are in:
 * <ul>
 *   <li>stop fails: nothing was restored, the volumes are unchanged;</li>
 *   <li>the restore is refused: the start command runs again so the database is back on
 *       unchanged volumes;</li>
 *   <li>the restore fails part way: the database is left stopped, to finish the restore
 *       first ({@code rewind restore --resume});</li>
 *   <li>start, waiting or a validation fails: the restore stays, and the report gives the
 *       seq that undoes it and the nearest earlier consistent bookmark.</li>
 * </ul>
 * An attachment without a stop or a start command is refused before anything runs, unless
 * the caller stops and starts the database itself ({@link DatabaseControl}, e.g. H2 in process).
 */
public final class CoordinatedRestore {
    private final DatabaseAttachment attachment;
    private final DatabaseAdapter adapter;
    private final DatabaseControl control;
    private final StepListener listener;
    private final List<Step> steps = new ArrayList<>();

    private CoordinatedRestore(DatabaseAttachment attachment, DatabaseAdapter adapter, DatabaseControl control, StepListener listener) {
        this.attachment = attachment;
        this.adapter = adapter;
        this.control = control;
        this.listener = listener;
    }

    /** Runs a coordinated restore of {@code a}'s set to {@code targetSeq}; see the class comment. */
    public static CoordinatedRestoreReport run(DatabaseAttachment a, DatabaseAdapter adapter, RestoreStep restore, long targetSeq,
            Optional<BookmarkRecord> nearestConsistentBefore, StepListener listener, Duration startTimeout) {
        String set = a.setName();
        requireCommands(a);
        return run(a, adapter, DatabaseControl.ofCommands(set, a.stopCommand(), a.startCommand()), restore, targetSeq,
                nearestConsistentBefore, listener, startTimeout);
    }

    /** Refuses an attachment without a stop or a start command, before anything runs. */
    public static void requireCommands(DatabaseAttachment a) {
        if (isBlank(a.stopCommand()) || isBlank(a.startCommand())) {
            String missing = isBlank(a.stopCommand()) && isBlank(a.startCommand()) ? "stop command and no start command"
                    : isBlank(a.stopCommand()) ? "stop command" : "start command";
            throw new RewindException("the database on set " + a.setName() + " has no " + missing
                    + " for a coordinated restore; run: rewind db attach " + a.setName() + " --jdbc " + a.jdbcUrl()
                    + " --stop-cmd CMD --start-cmd CMD");
        }
    }

    /**
     * The same, with the database stopped and started by {@code control} instead of the
     * attachment's commands (which may then be absent): a database in this process.
     */
    public static CoordinatedRestoreReport run(DatabaseAttachment a, DatabaseAdapter adapter, DatabaseControl control, RestoreStep restore,
            long targetSeq, Optional<BookmarkRecord> nearestConsistentBefore, StepListener listener, Duration startTimeout) {
        return new CoordinatedRestore(a, adapter, control, listener).run(restore, targetSeq, nearestConsistentBefore, startTimeout);
    }

    private CoordinatedRestoreReport run(RestoreStep restore, long targetSeq, Optional<BookmarkRecord> nearest, Duration startTimeout) {
        String set = attachment.setName();
        if (!step("stop", control::stop)) {
            return report(null, false, lastDetail() + "; nothing was restored, the volumes are unchanged; " + stateAfterFailedStop());
        }
        RestoreResult[] result = new RestoreResult[1];
        String refused = null;
        String failed = null;
        long started = System.nanoTime();
        try {
            result[0] = restore.restore();
            done("restore", started, true, describe(result[0]));
        } catch (RewindException e) {
            refused = e.getMessage();
            done("restore", started, false, "refused: " + refused);
        } catch (IOException | RuntimeException e) {
            failed = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            done("restore", started, false, "failed: " + failed);
        }
        if (failed != null) {
            return report(null, false, "the restore to seq " + targetSeq + " failed part way: " + failed
                    + "; the database is left stopped: finish it with rewind restore --resume " + set + ", then start the database");
        }
        if (refused != null) {
            boolean back = step("start", control::start);
            return report(null, false, "the restore was refused: " + refused + "; the volumes are unchanged"
                    + (back ? " and the database was started again" : "; starting the database again failed too: " + lastDetail()));
        }
        RestoreResult r = result[0];
        String undo = "; to undo the restore: rewind restore " + set + " --to-seq " + (r.firstSeq() - 1) + "; "
                + nearest.map(b -> "the nearest earlier consistent bookmark is " + b.name() + " (seq " + b.seq() + ")")
                        .orElse("no consistent bookmark precedes seq " + targetSeq);
        if (!step("start", control::start)
                || !step("accepting connections", () -> {
                    adapter.awaitAcceptingConnections(startTimeout);
                    return "";
                })) {
            return report(r, false, "restored to seq " + targetSeq + " but the database did not come up: " + lastDetail() + undo);
        }
        for (String sql : attachment.validations()) {
            if (!step("validate " + sql, () -> {
                adapter.validate(sql);
                return "";
            })) {
                return report(r, false, "restored to seq " + targetSeq + " but validation failed: " + lastDetail() + undo);
            }
        }
        return report(r, true, "restored to seq " + targetSeq + "; the database is up"
                + (attachment.validations().isEmpty() ? "" : attachment.validations().size() == 1 ? " and its validation query passed"
                        : " and its " + attachment.validations().size() + " validation queries passed"));
    }

    /**
     * Whether the database still answers after its stop command failed: a command that stopped
     * it and then failed leaves it down, and the DBA must hear that rather than guess.
     */
    private String stateAfterFailedStop() {
        try {
            adapter.checkConnection();
            return "the database still answers";
        } catch (RuntimeException e) {
            return "the database does NOT answer now (" + e.getMessage() + "): it may have stopped; start it with its start command"
                    + (isBlank(attachment.startCommand()) ? "" : " (" + attachment.startCommand() + ")");
        }
    }

    @FunctionalInterface
    private interface Work {
        String run() throws IOException;
    }

    /** Runs one step; false (with the step recorded as failed) when it throws. */
    private boolean step(String name, Work work) {
        long started = System.nanoTime();
        try {
            String detail = work.run();
            done(name, started, true, detail);
            return true;
        } catch (IOException | RuntimeException e) {
            done(name, started, false, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            return false;
        }
    }

    private void done(String name, long startedNanos, boolean ok, String detail) {
        Step s = new Step(name, Duration.ofNanos(System.nanoTime() - startedNanos), ok, detail);
        steps.add(s);
        listener.stepDone(s);
    }

    private String lastDetail() {
        return steps.get(steps.size() - 1).detail();
    }

    private CoordinatedRestoreReport report(RestoreResult result, boolean ok, String message) {
        return new CoordinatedRestoreReport(steps, result, ok, message);
    }

    private static String describe(RestoreResult r) {
        if (!r.changedAnything()) {
            return "nothing to rewrite (the set already equals seq " + r.targetSeq() + ")";
        }
        return r.bytesWritten() + " bytes rewritten in " + r.rangesWritten() + " ranges, journaled as seqs " + r.firstSeq() + ".."
                + r.lastSeq();
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
