package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.PointResolver;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.locate.PositionTarget;
import dev.rewind.increments.restore.InterruptedRestore;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.RestoreRecord;
import dev.rewind.volumeset.Times;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Bring every member of a set back to one write: in place, or as new files with --clone-to.",
                "In place, only the blocks changed after the target are read and written, and the restore is itself "
                + "journaled: restoring to the seq just before it undoes it. A restore in place that was cut short "
                + "(killed, power lost) is finished with --resume. --dry-run shows what a restore would do and changes nothing.",
                "With a database attached (rewind db attach), the target can be its own position: --to-lsn/--before-lsn (PostgreSQL), "
                + "--to-binlog/--before-binlog/--to-gtid (MariaDB); --coordinated stops the database, restores in place, starts it, "
                + "waits until it accepts connections and runs its validation queries, reporting each step."},
        footer = {"", "Examples:", "  rewind restore shop --to-seq 41234",
                "  rewind restore shop --to-time 2026-11-23T14:05:00Z", "  rewind restore shop --to-bookmark before-upgrade",
                "  rewind restore shop --to-seq 41234 --clone-to /tmp/shop-at-41234",
                "  rewind restore shop --to-seq 0 --dry-run", "  rewind restore --resume shop",
                "  rewind restore shop --before-lsn 0/3A0000F8 --coordinated", "  rewind restore shop --to-lsn 0/3A0000F8 --dry-run",
                "  rewind restore bank --before-binlog mysql-bin.000003:1234 --coordinated", "  rewind restore bank --to-gtid 0-1-42 --clone-to /tmp/bank"})
final class RestoreCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--to-seq", paramLabel = "N", description = "Exactly this write.")
        Long seq;

        @Option(names = "--to-time", paramLabel = "TIME", description = "The last write at or before this ISO-8601 time (local time if no zone).")
        String time;

        @Option(names = "--to-bookmark", paramLabel = "NAME", description = "A bookmark's write.")
        String bookmark;

        @Option(names = "--resume", description = "Finish the restore in place that was interrupted (its target, as 'rewind status' shows).")
        boolean resume;

        @Option(names = "--to-lsn", paramLabel = "LSN", description = "PostgreSQL: through the WAL record at this LSN (the write that put it on disk included).")
        String toLsn;

        @Option(names = "--before-lsn", paramLabel = "LSN", description = "PostgreSQL: the write just before the one that put the WAL record at this LSN on disk.")
        String beforeLsn;

        @Option(names = "--to-binlog", paramLabel = "FILE:POS", description = "MariaDB: through the binlog event at this position.")
        String toBinlog;

        @Option(names = "--before-binlog", paramLabel = "FILE:POS", description = "MariaDB: the write just before the one that put the binlog event at this position on disk.")
        String beforeBinlog;

        @Option(names = "--to-gtid", paramLabel = "GTID", description = "MariaDB: through the transaction with this GTID (e.g. 0-1-42).")
        String toGtid;
    }

    @Option(names = "--dry-run", description = "Print what the restore would do (members, ranges, bytes, the seq that would undo it); change nothing.")
    boolean dryRun;

    @Option(names = "--clone-to", paramLabel = "DIR", description = "Write DIR/<member>.img for every member instead of restoring in place.")
    Path cloneTo;

    @Option(names = "--disconnect", description = "With rewind serve running: drop the set's NBD clients first instead of refusing. "
            + "Needs --force: to a database or file system on those volumes this is a disk pulled out while it runs; "
            + "--coordinated is the way to restore under a running database.")
    boolean disconnect;

    @Option(names = "--force", description = "With --disconnect: yes, drop the clients even if a database is running on them.")
    boolean force;

    @Option(names = "--mount", paramLabel = "DIR", description = "With a target in the database's terms: read its log files under DIR, "
            + "where the file system holding its data dir is mounted, without asking the server (which, when it does not answer, "
            + "has its log read where its data dir was mounted, or else on a read-only view of the set's newest seq).")
    Path mount;

    @Option(names = "--coordinated", description = "In place, through the attached database: stop command, restore, start command, wait for connections, validation queries.")
    boolean coordinated;

    @Option(names = "--start-timeout", paramLabel = "DURATION", defaultValue = "5m",
            description = "With --coordinated: how long the database may take to accept connections after its start command (default ${DEFAULT-VALUE}).")
    String startTimeout;

    /** How a database position was turned into the target seq, or null for the other targets. */
    private PositionTarget positionTarget;

    /**
     * How the target seq was found, one line for every kind of target ({@code targetFoundBy}):
     * {@code seq}, {@code bookmark NAME}, {@code time T: the last write at or before it},
     * {@code --to-lsn P: } and how the database position was placed, or the interrupted restore's target.
     */
    private String targetFoundBy;

    /** The JSON form of an interrupted restore, as {@code status} and {@code log} show it. */
    static Map<String, Object> interruptedJson(String setName, InterruptedRestore r) {
        return Output.map("targetSeq", r.intent().targetSeq(), "startedAt", r.intent().startedAt().toString(),
                "headSeqAtStart", r.intent().headSeqAtStart(), "firstRestoreSeq", r.intent().firstRestoreSeq(),
                "lastRestoreSeq", r.restoreSeqsWritten() == 0 ? null : r.lastRestoreSeq(), "restoreSeqsWritten", r.restoreSeqsWritten(),
                "bytesWritten", r.bytesWritten(), "plannedBytes", r.intent().plannedBytes(), "undoSeq", r.intent().undoSeq(),
                "resumeCommand", InterruptedRestore.resumeCommand(setName));
    }

    /**
     * When seq {@code seq} was written: from its journal record, or, past the every-write horizon
     * (where only transaction boundaries remain), the end of the transaction it closes; null for
     * the set's starting state.
     */
    static Instant timeOf(CapturedSet set, long seq) {
        if (seq >= set.journal().firstSeq()) {
            return set.journalRecord(seq).time();
        }
        var transactions = set.history().transactions();
        int i = transactions.indexHolding(seq);
        return i < 0 ? null : transactions.all().get(i).end();
    }

    @Override
    void run(DataDir data, Output out) throws Exception {
        Catalog catalog = data.catalog();
        data.volumes().findSet(setName);
        if (disconnect && !force) {
            throw new ParameterException(spec.commandLine(), "--disconnect drops the set's NBD clients while they run: a database or "
                    + "file system on them sees its disk pulled out and may crash. To restore under a running database use "
                    + "--coordinated (it stops and starts it); to drop the clients anyway add --force");
        }
        if (coordinated && (cloneTo != null || disconnect || target.resume)) {
            throw new RewindException("--coordinated restores in place with the database stopped; it cannot be combined with "
                    + (cloneTo != null ? "--clone-to" : disconnect ? "--disconnect (the stop command releases the volumes)" : "--resume"));
        }
        try (CapturedSet set = data.openSet(setName)) {
            long seq = resolve(data, set);
            set.checkRestorable(seq);
            Instant at = timeOf(set, seq);
            String when = at == null ? "the set's creation" : Output.humanTime(at);
            // printed before the work only where steps follow it; a restore or clone reports it with its result, so that
            // nothing on stdout claims a restore before it is durable
            String targetLine = String.format("target: seq %d, found by %s", seq, targetFoundBy);
            if (coordinated || dryRun) {
                out.line("%s", targetLine);
            }
            if (coordinated && !dryRun) {
                new CoordinatedRestoreRun(data, set, seq, targetFoundBy, out).run(startTimeout(), () -> restoreInPlace(data, set, seq, out));
                return;
            }
            if (dryRun) {
                List<String> steps = coordinated ? coordinatedSteps(catalog, seq) : List.of();
                new RestoreDryRun(setName, seq, at, when, targetFoundBy, out).print(set.planRestore(seq), cloneTo == null ? null : data.resolve(cloneTo), steps);
                return;
            }
            if (cloneTo != null) {
                long total = set.record().members().stream().mapToLong(m -> m.sizeBytes()).sum();
                List<Path> files;
                try (Progress p = out.progress("cloning", total)) {
                    files = set.cloneTo(seq, data.resolve(cloneTo), p);
                }
                out.line("cloned set %s as of seq %d (%s) into %s", setName, seq, when, data.resolve(cloneTo));
                out.line("%s", targetLine);
                for (Path f : files) {
                    out.line("  %s", f);
                }
                out.json(Output.map("set", setName, "mode", "clone", "targetSeq", seq, "targetTime", at == null ? null : at.toString(),
                        "targetFoundBy", targetFoundBy,
                        "files", files.stream().map(Path::toString).toList()));
                return;
            }
            var superseded = set.interruptedRestore().filter(ir -> !target.resume && ir.intent().targetSeq() != seq);
            RestoreResult r = restoreInPlace(data, set, seq, out);
            superseded.ifPresent(ir -> out.line("(this restore superseded the interrupted restore to seq %d)", ir.intent().targetSeq()));
            if (r.changedAnything()) {
                out.line("%s set %s to seq %d (%s): %s in %d range(s) rewritten as seqs %d..%d",
                        target.resume ? "finished the interrupted restore of" : "restored", setName, seq, when,
                        Sizes.format(r.bytesWritten()), r.rangesWritten(), r.firstSeq(), r.lastSeq());
                out.line("undo with: rewind restore %s --to-seq %d", setName, r.firstSeq() - 1);
            } else {
                out.line("set %s is already at seq %d: nothing changed after it", setName, seq);
            }
            out.line("%s", targetLine);
            out.json(Output.map("set", setName, "mode", "in-place", "resumed", target.resume, "targetSeq", seq, "targetTime", at == null ? null : at.toString(),
                    "targetFoundBy", targetFoundBy,
                    "firstSeq", r.changedAnything() ? r.firstSeq() : null, "lastSeq", r.changedAnything() ? r.lastSeq() : null,
                    "bytesWritten", r.bytesWritten(), "undoSeq", r.changedAnything() ? r.firstSeq() - 1 : null));
        }
    }

    /**
     * Today's restore in place, as the plain and the coordinated restore run it: NBD clients
     * held off (see {@link #holdOffClients}), the set restored (or the interrupted restore
     * finished), and the restore recorded in the catalog when it changed anything.
     */
    RestoreResult restoreInPlace(DataDir data, CapturedSet set, long seq, Output out) throws Exception {
        RestoreResult r;
        try (AutoCloseable held = holdOffClients(data); Progress p = out.progress("restoring", 0)) {
            r = target.resume ? set.resumeRestore(p) : set.restoreInPlace(seq, p);
        }
        if (r.changedAnything()) {
            data.catalog().insertRestore(new RestoreRecord(setName, seq, r.firstSeq(), r.lastSeq(), r.bytesWritten(),
                    Times.micros(data.clock().instant())));
        }
        return r;
    }

    /**
     * With a daemon running: no NBD client may use the set while it is restored in place.
     * New connections wait out the restore; connected clients are refused unless --disconnect.
     */
    private AutoCloseable holdOffClients(DataDir data) throws Exception {
        if (data.daemon() == null) {
            return () -> { };
        }
        AutoCloseable held = data.daemon().holdOffClients(setName, disconnect);
        List<dev.rewind.capture.nbd.NbdServer.Client> live = data.daemon().nbdClients(setName).stream().filter(c -> !c.past()).toList();
        int clients = live.size();
        if (clients > 0) {
            String named = live.stream().map(c -> c.exportName() + " from " + c.peer()).collect(java.util.stream.Collectors.joining(", "));
            held.close();
            throw new RewindException(coordinated
                    ? "set " + setName + " still has " + clients + " connected NBD client(s) after the stop command (" + named
                            + "): its volumes are in use; make the stop command release them (unmount, disconnect)"
                    : "set " + setName + " has " + clients + " connected NBD client(s) on its live exports (" + named
                            + "); stop what uses them first" + (data.catalog().databases().attachment(setName).isPresent()
                                    ? ", or restore with --coordinated, which stops and starts the attached database"
                                    : " (a database on them: attach it with rewind db attach and restore with --coordinated)"));
        }
        return held;
    }

    private long resolve(DataDir data, CapturedSet set) throws java.io.IOException {
        Catalog catalog = data.catalog();
        if (mount != null && target.toLsn == null && target.beforeLsn == null && target.toBinlog == null && target.beforeBinlog == null
                && target.toGtid == null) {
            throw new ParameterException(spec.commandLine(), "--mount says where to read the database's log files; it goes with a target "
                    + "in the database's terms (--to-lsn, --before-lsn, --to-binlog, --before-binlog, --to-gtid)");
        }
        if (target.resume) {
            if (cloneTo != null) {
                throw new RewindException("--resume finishes a restore in place; it cannot be combined with --clone-to");
            }
            InterruptedRestore interrupted = set.interruptedRestore().orElseThrow(() -> new RewindException("set " + setName
                    + " has no interrupted restore to resume; 'rewind status " + setName + "' shows its state"));
            targetFoundBy = "resume: the target of the interrupted restore started " + Output.humanTime(interrupted.intent().startedAt());
            return interrupted.intent().targetSeq();
        }
        PointResolver points = new PointResolver(set, DataDir.bookmarkLookup(catalog));
        if (target.seq != null) {
            targetFoundBy = "seq";
            return points.seq(target.seq);
        }
        if (target.bookmark != null) {
            targetFoundBy = "bookmark " + target.bookmark;
            return points.bookmark(target.bookmark);
        }
        if (target.time != null) {
            targetFoundBy = "time " + Output.humanTime(Times.parse(target.time)) + ": the last write at or before it";
            return points.time(target.time);
        }
        positionTarget = resolvePosition(data, set);
        targetFoundBy = positionOption() + " " + positionText().strip() + ": " + positionTarget.how();
        return positionTarget.seq();
    }

    private String positionOption() {
        return target.toLsn != null ? "--to-lsn" : target.beforeLsn != null ? "--before-lsn" : target.toBinlog != null ? "--to-binlog"
                : target.beforeBinlog != null ? "--before-binlog" : "--to-gtid";
    }

    private String positionText() {
        return target.toLsn != null ? target.toLsn : target.beforeLsn != null ? target.beforeLsn : target.toBinlog != null ? target.toBinlog
                : target.beforeBinlog != null ? target.beforeBinlog : target.toGtid;
    }

    /** What a coordinated restore to {@code seq} would run, in order, for --dry-run. */
    private List<String> coordinatedSteps(Catalog catalog, long seq) {
        var a = dev.rewind.cli.db.AttachedDatabase.of(catalog, setName);
        dev.rewind.dbadapters.coordinate.CoordinatedRestore.requireCommands(a);
        List<String> steps = new java.util.ArrayList<>();
        steps.add("stop: " + a.stopCommand());
        steps.add("restore in place to seq " + seq);
        steps.add("start: " + a.startCommand());
        steps.add("wait until it accepts connections (up to " + dev.rewind.volumeset.Durations.format(startTimeout()) + ")");
        a.validations().forEach(sql -> steps.add("validate " + sql));
        return steps;
    }

    private java.time.Duration startTimeout() {
        return durationOption("--start-timeout", startTimeout);
    }

    private PositionTarget resolvePosition(DataDir data, CapturedSet set) throws java.io.IOException {
        if (target.toLsn != null) {
            return DatabaseTargets.resolve(data, set, "--to-lsn", target.toLsn, false, Engine.POSTGRESQL, mount);
        }
        if (target.beforeLsn != null) {
            return DatabaseTargets.resolve(data, set, "--before-lsn", target.beforeLsn, true, Engine.POSTGRESQL, mount);
        }
        if (target.toBinlog != null) {
            return DatabaseTargets.resolve(data, set, "--to-binlog", target.toBinlog, false, Engine.MARIADB, mount);
        }
        if (target.beforeBinlog != null) {
            return DatabaseTargets.resolve(data, set, "--before-binlog", target.beforeBinlog, true, Engine.MARIADB, mount);
        }
        return DatabaseTargets.resolve(data, set, "--to-gtid", target.toGtid, false, Engine.MARIADB, mount);
    }
}
