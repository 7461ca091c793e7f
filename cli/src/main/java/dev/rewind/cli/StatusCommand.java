package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.SetInUseException;
import dev.rewind.capture.SetOfflineException;
import dev.rewind.capture.StoppedSetRecovery;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.SetRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show sets: members, newest and flushed seq, cut rules and transactions, oldest boundary and oldest exact write, secondary use (journal, increments, delta maps, replica), NBD clients, and whether the attached database answers.",
        footer = {"", "Examples:", "  rewind status", "  rewind status shop --json"})
final class StatusCommand extends Subcommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SET", description = "One set (default: all).")
    String setName;

    @Override
    void run(DataDir data, Output out) throws Exception {
        List<SetRecord> sets = setName == null ? data.catalog().listSets() : List.of(data.volumes().findSet(setName));
        List<Map<String, Object>> rows = new ArrayList<>();
        if (sets.isEmpty()) {
            out.line("no sets yet; create one with 'rewind set create' (or try 'rewind quickstart')");
        }
        for (SetRecord set : sets) {
            Map<String, Object> row = SetCommand.describe(set);
            int bookmarks = data.catalog().listBookmarks(set.name()).size();
            row.put("bookmarks", bookmarks);
            try (CapturedSet open = openOrOffline(data, set.name())) {
                var stopped = open.stopped();
                row.put("state", stopped.isPresent() ? "stopped" : "online");
                row.put("stoppedBecause", stopped.map(CapturedSet.Stopped::cause).orElse(null));
                row.put("stoppedSince", stopped.map(x -> x.since().toString()).orElse(null));
                // a retry is news only while the set is stopped: the daemon forgets it just after the reopen succeeds
                Optional<StoppedSetRecovery.Retry> retry = stopped.isPresent() ? retry(data, set.name()) : Optional.empty();
                row.put("retry", retry.map(StatusCommand::retryJson).orElse(null));
                var usage = open.secondaryUsage();
                Map<String, List<String>> clients = nbdClients(data, set.name());
                row.put("inUse", !clients.isEmpty());
                List<Map<String, Object>> clientRows = new ArrayList<>();
                clients.forEach((export, peers) -> clientRows.add(Output.map("export", export, "count", peers.size(), "peers", peers)));
                row.put("nbdClients", clientRows);
                row.put("lastSeq", open.lastSeq());
                row.put("flushedSeq", open.flushedSeq());
                row.put("oldestSeq", open.oldestSeq());
                row.put("oldestExactSeq", open.oldestExactSeq());
                row.put("cutRules", open.transactionService().rules().describe());
                row.put("transactions", open.transactions().size());
                row.put("incrementBytes", usage.incrementBytes());
                row.put("lastWriteTime", open.lastSeq() >= open.journal().firstSeq() ? open.journalRecord(open.lastSeq()).time().toString() : null);
                row.put("journalBytes", usage.journalBytes());
                row.put("replicaBytes", usage.replicaBytes());
                row.put("deltaMapBytes", usage.deltaMapBytes());
                row.put("recovered", open.isRecoveredAfterUncleanStop());
                var interrupted = open.interruptedRestore();
                row.put("interruptedRestore", interrupted.map(ir -> RestoreCommand.interruptedJson(set.name(), ir)).orElse(null));
                out.line("set %s: seq %d (flushed %d), history from seq %d, %d bookmark(s); journal %s, replica %s%s",
                        set.name(), open.lastSeq(), open.flushedSeq(), open.oldestSeq(), bookmarks,
                        Sizes.format(usage.journalBytes()), Sizes.format(usage.replicaBytes()),
                        open.isRecoveredAfterUncleanStop() ? "; recovered after an unclean stop (rewind verify " + set.name() + " checks it)" : "");
                out.line("  transactions %d, cut %s; oldest boundary seq %d, every write exact from seq %d; increments %s, delta maps %s",
                        open.transactions().size(), open.transactionService().rules().describe(), open.oldestSeq(), open.oldestExactSeq(),
                        Sizes.format(usage.incrementBytes()), Sizes.format(usage.deltaMapBytes()));
                retention(open, row, out);
                clients.forEach((export, peers) -> out.line("  NBD clients on %s: %d (%s)", export, peers.size(), String.join("; ", peers)));
                interrupted.ifPresent(ir -> out.line("  RESTORE INTERRUPTED: %s", ir.describe(set.name())));
                stopped.ifPresent(x -> out.line("  STOPPED since %s: refuses writes after an I/O error (%s); %s", Output.humanTime(x.since()),
                        x.cause(), retry.map(r -> retryLine(set.name(), r)).orElse("once its cause is gone, 'rewind set reopen " + set.name()
                                + "' recovers it with every acknowledged write")));
            } catch (SetOfflineException e) {
                // a set stopped on a read-only file system is offline while its files are closed: still stopped, and retried
                Optional<StoppedSetRecovery.Retry> retry = retry(data, set.name());
                row.put("state", retry.isPresent() ? "stopped" : "offline");
                row.put("stoppedBecause", retry.map(StoppedSetRecovery.Retry::cause).orElse(null));
                row.put("stoppedSince", retry.map(r -> r.stoppedSince().toString()).orElse(null));
                row.put("retry", retry.map(StatusCommand::retryJson).orElse(null));
                row.put("reason", e.why());
                row.put("since", e.since().toString());
                row.put("hint", e.hint());
                row.put("inUse", false);
                row.put("nbdClients", null);
                row.put("lastSeq", null);
                row.put("flushedSeq", null);
                if (retry.isPresent()) {
                    StoppedSetRecovery.Retry r = retry.get();
                    out.line("set %s: STOPPED since %s: refuses writes after an I/O error (%s); %s%s", set.name(),
                            Output.humanTime(r.stoppedSince()), r.cause(), r.isSecondaryReleased() ? "its files are closed so that its "
                                    + "file system can be unmounted, checked and mounted again; " : "", retryLine(set.name(), r));
                } else {
                    out.line("set %s: OFFLINE since %s: %s", set.name(), e.since(), e.why());
                    out.line("  %s", e.hint());
                }
            } catch (SetInUseException e) {
                row.put("state", "in use");
                row.put("retry", null);
                row.put("inUse", true);
                row.put("nbdClients", null);
                row.put("lastSeq", null);
                row.put("flushedSeq", null);
                out.line("set %s: %s", set.name(), e.getMessage());
            }
            Map<String, Object> database = databaseState(data, set.name());
            row.put("database", database);
            if (database != null) {
                out.line("  database    %s %s: %s", database.get("engine"), database.get("jdbcUrl"), database.get("state").equals("down")
                        ? "DOWN (" + database.get("why") + ")" : database.get("state"));
            }
            for (var m : set.members()) {
                out.line("  %-12s %-10s %s", m.name(), Sizes.format(m.sizeBytes()), m.source());
            }
            out.line("  secondary   %s", set.secondaryDir());
            rows.add(row);
        }
        out.json(Output.map("sets", rows));
    }

    /** The attached database and whether its server answers now ({@code up}, or {@code down} with why, as {@code db show} probes it), or null without one. */
    private static Map<String, Object> databaseState(DataDir data, String setName) {
        Optional<DatabaseAttachment> attached = data.catalog().databases().attachment(setName);
        if (attached.isEmpty()) {
            return null;
        }
        DatabaseAttachment a = attached.get();
        try (DatabaseAdapter adapter = AttachedDatabase.open(a)) {
            adapter.checkConnection();
            return Output.map("engine", a.engine(), "jdbcUrl", a.jdbcUrl(), "state", "up", "why", null);
        } catch (RuntimeException e) {
            return Output.map("engine", a.engine(), "jdbcUrl", a.jdbcUrl(), "state", "down", "why", String.valueOf(e.getMessage()));
        }
    }

    /**
     * The set opened for a look, or {@link SetOfflineException} saying why it cannot be: the
     * daemon's reason for a set it holds offline, or, without a daemon, what failed at this open.
     */
    private static CapturedSet openOrOffline(DataDir data, String setName) throws java.io.IOException {
        try {
            return data.openSet(setName);
        } catch (SetOfflineException | SetInUseException e) {
            throw e;
        } catch (java.io.IOException | dev.rewind.volumeset.CorruptDataException | dev.rewind.volumeset.RewindException e) {
            throw new SetOfflineException(setName, e, java.time.Instant.now());
        }
    }

    /** How the daemon retries the set while it is stopped; empty when it is not, or without a daemon. */
    private static Optional<StoppedSetRecovery.Retry> retry(DataDir data, String setName) {
        return data.daemon() == null ? Optional.empty()
                : data.daemon().service(StoppedSetRecovery.class).flatMap(recovery -> recovery.retry(setName));
    }

    private static Map<String, Object> retryJson(StoppedSetRecovery.Retry r) {
        return Output.map("failedAttempts", r.failedAttempts(), "lastAttemptFailure", r.lastAttemptFailure(),
                "nextAttemptAt", r.nextAttemptAt().toString(), "secondaryReleased", r.isSecondaryReleased());
    }

    private static String retryLine(String setName, StoppedSetRecovery.Retry r) {
        return "rewind serve retries it by itself, next at " + Output.humanTime(r.nextAttemptAt())
                + (r.failedAttempts() == 0 ? "" : " (" + r.failedAttempts() + " attempt(s) failed, the last: " + r.lastAttemptFailure() + ")")
                + "; 'rewind set reopen " + setName + "' tries at once";
    }

    /** The NBD clients of the set's exports, their peers by export name. Only a running daemon serves NBD; without one, none. */
    private static Map<String, List<String>> nbdClients(DataDir data, String setName) {
        Map<String, List<String>> byExport = new java.util.TreeMap<>();
        if (data.daemon() != null) {
            for (var c : data.daemon().nbdClients(setName)) {
                byExport.computeIfAbsent(c.exportName(), e -> new ArrayList<>()).add(c.peer());
            }
        }
        return byExport;
    }

    /** The set's retention: its rules, what each keeps now and the bytes it holds, and what the next pass fades out. */
    private static void retention(CapturedSet open, Map<String, Object> row, Output out) throws java.io.IOException {
        var policy = open.retentionPolicy();
        var plan = open.planRetention();
        List<RetentionView.RuleShare> shares = RetentionView.shares(plan);
        List<Map<String, Object>> rules = new ArrayList<>();
        shares.forEach(share -> rules.add(share.json()));
        row.put("retention", Output.map("keep", policy.text(), "points", plan.kept().size() + plan.going().size(),
                "oldestSeq", open.oldestSeq(), "rules", rules, "dueToGo", plan.going().size(),
                "maxSizeBytes", open.maxSecondaryBytes() > 0 ? open.maxSecondaryBytes() : null, "overMaxSizeBytes", plan.overMaxBytes()));
        if (plan.overMaxBytes() > 0) {
            out.line("  OVER ITS SIZE LIMIT: the secondary stays %s over --max-size %s even after retention fades out every point it may; "
                    + "the rest is the every-write history, the newest point and points sandboxes or restores read (shorten every-write, "
                    + "drop a sandbox, or raise --max-size)", Sizes.format(plan.overMaxBytes()), Sizes.format(open.maxSecondaryBytes()));
        }
        if (policy.keepsEveryBoundary() && open.maxSecondaryBytes() == 0) {
            return; // the every-write horizon is on the line above; nothing else to say
        }
        out.line("  keep %s%s: %d point(s) on hand%s", policy.text(),
                open.maxSecondaryBytes() > 0 ? " within " + Sizes.format(open.maxSecondaryBytes()) : "", plan.kept().size() + plan.going().size(),
                plan.going().isEmpty() ? "" : ", " + plan.going().size() + " due to go at the next retention pass");
        shares.forEach(share -> out.line("    %s", share.line()));
    }
}
