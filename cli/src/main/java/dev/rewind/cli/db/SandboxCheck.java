package dev.rewind.cli.db;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.sandbox.Sandboxes;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.dbadapters.api.CheckResult;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.bisect.Probe;
import dev.rewind.dbadapters.bisect.Verdict;
import dev.rewind.dbadapters.coordinate.StepListener;
import dev.rewind.dbadapters.sandbox.ExportMounts;
import dev.rewind.dbadapters.sandbox.SandboxServer;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * One step of {@code rewind bisect} on the daemon's sandboxes: at seq S, a sandbox
 * {@code bisect-S} (a name not in use), the set's attached database started on it, the check
 * run there, then the database stopped and the sandbox dropped, whatever happened (a failed
 * check, a database that did not start, an interrupt). A check that fails, or whose SQL fails,
 * is a bad verdict; so is a database that exits while starting (its crash recovery refuses the
 * files at that write), whose log is kept. One that Rewind cannot start (a mount, a timeout)
 * is an error that ends the bisect.
 */
public final class SandboxCheck implements Probe {
    /** The prefix of the sandboxes a bisect creates and drops. */
    public static final String NAME_PREFIX = "bisect-";

    private final DataDir data;
    private final CapturedSet set;
    private final String sql;
    private final Duration startTimeout;
    private final SandboxDatabases databases;
    private final BooleanSupplier stop;

    /**
     * {@code data} must be run by the daemon (it serves the sandboxes' exports); refused
     * otherwise. {@code stop}: true when the bisect should end before its next step (the
     * client that asked for it has gone).
     */
    public SandboxCheck(DataDir data, CapturedSet set, String sql, Duration startTimeout, BooleanSupplier stop) {
        this.stop = stop;
        this.databases = SandboxDatabases.of(data, "bisect");
        this.data = data;
        this.set = set;
        this.sql = sql;
        this.startTimeout = startTimeout;
    }

    @Override
    public Verdict at(long seq) throws IOException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("bisect of set " + set.name() + " interrupted before seq " + seq);
        }
        if (stop.getAsBoolean()) {
            throw new InterruptedIOException("bisect of set " + set.name() + " stopped before seq " + seq
                    + ": the client that asked for it has gone (Ctrl-C)");
        }
        Sandboxes sandboxes = data.sandboxes();
        String name = freeName(sandboxes, seq);
        sandboxes.create(set, name, seq, Long.toString(seq));
        Throwable failure = null;
        boolean keepLog = true;
        try {
            StartedSandbox started;
            try {
                started = databases.start(data, set.name(), name, OptionalInt.empty(), startTimeout, StepListener.NONE);
            } catch (SandboxServer.Exited e) {
                // the database itself refused what it found at this write (its crash recovery failed): not a good state
                return Verdict.bad("the database did not start: " + e.getMessage());
            } catch (IOException | RuntimeException e) {
                throw new RewindException("the database did not start on sandbox " + name + " (seq " + seq + "), so the bisect stops: "
                        + e.getMessage(), e);
            }
            try (DatabaseAdapter adapter = databases.connect(data, started)) {
                CheckResult r = adapter.check(sql);
                keepLog = false;
                return r.holds() ? Verdict.good(r.detail()) : Verdict.bad(r.detail());
            }
        } catch (Throwable e) {
            failure = e;
            throw e;
        } finally {
            cleanUp(sandboxes, name, failure, keepLog);
        }
    }

    /**
     * Stops the database and drops the sandbox, and deletes the database's work dir unless
     * {@code keepLog} (a step that did not end with an answer keeps its log, which its message
     * names); a failure here is thrown, with the one that ended the step if any.
     */
    private void cleanUp(Sandboxes sandboxes, String name, Throwable failure, boolean keepLog) throws IOException {
        RewindException left = null;
        try {
            databases.stop(set.name(), name);
        } catch (IOException | RuntimeException e) {
            left = new RewindException("cannot stop the database on sandbox " + name + ": " + e.getMessage()
                    + "; run: rewind sandbox stop " + set.name() + " " + name, e);
        }
        try {
            sandboxes.drop(set.name(), name);
        } catch (IOException | RuntimeException e) {
            left = new RewindException("cannot drop sandbox " + name + ": " + e.getMessage() + "; run: rewind sandbox drop "
                    + set.name() + " " + name + " --force", e);
        }
        if (left == null && !keepLog) {
            SandboxDatabases.forget(data, set.name(), name);
        }
        if (left != null && failure != null) {
            throw new RewindException(failure.getMessage() + "; also " + left.getMessage(), failure);
        }
        if (left != null) {
            throw left;
        }
    }

    /**
     * Drops the sandboxes of bisects, and the views of {@link DatabaseLog}, that did not finish
     * because the daemon running them died (each drops its sandboxes itself, also on failure;
     * {@code sandbox create} refuses their prefixes, so these are never a user's). File systems still mounted from one are
     * detached first. Run by {@code rewind serve} as it starts, before anything is served.
     * Returns a line for each: dropped, or why not and what to run.
     */
    public static List<String> dropInterrupted(DataDir data, Sandboxes sandboxes) {
        List<String> lines = new ArrayList<>();
        for (SandboxRecord s : sandboxes.list(null)) {
            if (!s.name().startsWith(NAME_PREFIX) && !s.name().startsWith(DatabaseLog.VIEW_PREFIX)) {
                continue;
            }
            String leftBy = s.name().startsWith(NAME_PREFIX) ? "a bisect" : "a read of the database's log";
            try {
                List<String> members = SandboxDatabases.memberNames(data, s.setName());
                Path workDir = SandboxDatabases.workDir(data, s.setName(), s.name());
                if (ExportMounts.anyMounted(workDir, members)) {
                    ExportMounts.forceUnmount(workDir, members);
                }
                sandboxes.drop(s.setName(), s.name());
                SandboxDatabases.forget(data, s.setName(), s.name());
                lines.add("dropped sandbox " + s.name() + " of set " + s.setName() + " (seq " + s.seq() + "), left by " + leftBy + " that did not finish");
            } catch (IOException | RuntimeException e) {
                lines.add("sandbox " + s.name() + " of set " + s.setName() + " is left by " + leftBy + " that did not finish and could not be dropped ("
                        + e.getMessage() + "); run: rewind sandbox drop " + s.setName() + " " + s.name() + " --force");
            }
        }
        return lines;
    }

    private String freeName(Sandboxes sandboxes, long seq) {
        Set<String> used = sandboxes.list(set.name()).stream().map(SandboxRecord::name).collect(Collectors.toSet());
        String name = NAME_PREFIX + seq;
        for (int i = 2; used.contains(name); i++) {
            name = NAME_PREFIX + seq + "-" + i;
        }
        return name;
    }
}
