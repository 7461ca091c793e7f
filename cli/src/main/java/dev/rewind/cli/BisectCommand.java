package dev.rewind.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.PointResolver;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.cli.db.SandboxCheck;
import dev.rewind.dbadapters.bisect.Bisect;
import dev.rewind.dbadapters.bisect.BisectResult;
import dev.rewind.dbadapters.bisect.BisectStep;
import dev.rewind.dbadapters.bisect.Probe;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.RewindException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind bisect}: the last write at which a check query holds, found by starting the
 * set's database on sandboxes at midpoints ({@link Bisect} searches, {@link SandboxCheck}
 * probes), each step printed as it finishes; {@code --restore} then runs the coordinated
 * restore there.
 */
@Command(name = "bisect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Find the last write at which a check query holds, starting the database on sandboxes.",
                "Each step opens a sandbox at a midpoint, starts the set's attached database on it (as 'rewind sandbox start' "
                        + "does), runs the check, stops it and drops the sandbox, and goes on with the half where the answer changes: "
                        + "whole transactions first (their boundaries), then write by write inside the one where the check turns bad, "
                        + "about log2(writes between) steps. The check holds when the first column of the first row is true or "
                        + "non-zero; it fails on false, 0, null, no row, an SQL error (relation does not exist), or a database that exits while it starts "
                        + "(its crash recovery refuses the files at that write).",
                "It must hold at --good and fail at --bad; if it holds at both or fails at both, bisect says so and stops. "
                        + "Runs in 'rewind serve' (it serves the sandboxes' exports); no bisect-* sandbox is left behind "
                        + "(those of a daemon that was killed are dropped when 'rewind serve' starts again)."},
        footer = {"", "Examples:",
                "  rewind bisect shop --good bookmark:before-upgrade \\",
                "      --check \"select to_regclass('public.orders') is not null\"",
                "  rewind bisect shop --good time:2026-11-25T14:00:00Z --bad 81234 \\",
                "      --check 'select count(*) > 0 from pgbench_accounts'",
                "  rewind bisect shop --good 41000 --restore \\",
                "      --check 'select count(*) = 100000 from pgbench_accounts'",
                "  rewind bisect bank --good bookmark:nightly --json \\",
                "      --check 'select count(*) > 0 from orders'"})
final class BisectCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Option(names = "--good", required = true, paramLabel = "POINT",
            description = "A point where the check holds: a seq, bookmark:NAME or time:ISO-8601.")
    String good;

    @Option(names = "--bad", paramLabel = "POINT", description = "A later point where it fails (default: the newest write).")
    String bad;

    @Option(names = "--check", required = true, paramLabel = "SQL",
            description = "The query that holds while the database is good, e.g. 'select count(*) > 0 from orders'.")
    String check;

    @Option(names = "--restore", description = "Then restore the set in place to the last good write, coordinated (as restore --coordinated).")
    boolean restore;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m",
            description = "How long the database may take to accept connections at each step, and after --restore (default ${DEFAULT-VALUE}).")
    String timeout;

    @Override
    void run(DataDir data, Output out) throws Exception {
        data.volumes().findSet(setName);
        if (check.isBlank()) {
            throw new RewindException("--check is empty; give a query that holds while the database is good, e.g. "
                    + "--check 'select count(*) > 0 from orders'");
        }
        Duration startTimeout = startTimeout();
        AttachedDatabase.of(data.catalog(), setName);
        try (CapturedSet set = data.openSet(setName)) {
            PointResolver points = new PointResolver(set, DataDir.bookmarkLookup(data.catalog()));
            long goodSeq = points.point(good, "--good");
            long badSeq = bad == null ? set.lastSeq() : points.point(bad, "--bad");
            if (goodSeq >= badSeq) {
                throw new RewindException("--good (seq " + goodSeq + ") must be before --bad (seq " + badSeq + ")"
                        + (bad == null ? ", the newest write" : "") + "; give an earlier --good or a later --bad");
            }
            if (badSeq > set.lastSeq()) {
                throw new RewindException("--bad seq " + badSeq + " is after the newest write of set " + setName + " (seq " + set.lastSeq() + ")");
            }
            set.checkRestorable(goodSeq);
            set.checkRestorable(badSeq);
            if (goodSeq + 1 < set.oldestExactSeq()) {
                throw new RewindException("--good (seq " + goodSeq + ") is older than set " + setName + "'s oldest single write kept (seq "
                        + set.oldestExactSeq() + "); bisect steps write by write, so give --good " + (set.oldestExactSeq() - 1) + " or later");
            }
            if (data.daemon() == null) {
                throw new RewindException("bisect needs 'rewind serve' running: it serves the sandboxes' exports the database starts on");
            }
            runBisect(data, out, set, goodSeq, badSeq, new SandboxCheck(data, set, check, startTimeout, DaemonRequest::isClientGone),
                    startTimeout);
        }
    }

    private void runBisect(DataDir data, Output out, CapturedSet set, long goodSeq, long badSeq, Probe probe, Duration startTimeout)
            throws Exception {
        List<Transaction> transactions = set.transactions();
        BisectSteps where = new BisectSteps(transactions);
        out.line("bisect of set %s between seq %d (--good %s) and seq %d (--bad%s): %s", setName, goodSeq, good, badSeq,
                bad == null ? ", the newest write" : " " + bad, check);
        List<Map<String, Object>> steps = new ArrayList<>();
        Bisect bisect = new Bisect(transactions.stream().mapToLong(Transaction::lastSeq).toArray(), data.clock(),
                seq -> !set.history().isInsideRestore(seq));
        BisectResult result = bisect.run(goodSeq, badSeq, probe, step -> {
            String line = String.format("step %d: seq %d (%s): check %s (%s) %s", step.number(), step.seq(), where.describe(step),
                    step.verdict().isGood() ? "holds" : "fails", step.verdict().detail(), seconds(step.took()));
            out.line("%s", line);
            if (data.daemon() != null) {
                System.err.println("rewind bisect " + setName + ": " + line); // the daemon's log too: a bisect changes what it serves
            }
            steps.add(Output.map("step", step.number(), "seq", step.seq(), "where", where.describe(step), "boundary", step.isBoundary(),
                    "end", step.isEnd(), "holds", step.verdict().isGood(), "detail", step.verdict().detail(),
                    "tookMillis", step.took().toMillis()));
        });
        result.warnings().forEach(w -> out.line("warning: %s", w));
        Map<String, Object> json = Output.map("set", setName, "check", check, "goodSeq", goodSeq, "badSeq", badSeq,
                "outcome", result.outcome().name().toLowerCase(java.util.Locale.ROOT), "message", result.message(), "steps", steps,
                "warnings", result.warnings(), "lastGoodSeq", null, "lastGoodTime", null, "firstBadSeq", null, "firstBadTime", null,
                "restoreCommand", null, "restore", null);
        if (!result.isFound()) {
            throw new ReportedFailure(result.message(), json);
        }
        long lastGood = result.lastGoodSeq();
        Instant lastGoodTime = RestoreCommand.timeOf(set, lastGood);
        Instant firstBadTime = RestoreCommand.timeOf(set, result.firstBadSeq());
        String restoreCommand = "rewind restore " + setName + " --to-seq " + lastGood + " --coordinated";
        out.line("last good write: seq %d at %s (first bad: seq %d at %s, %s); %d steps", lastGood, time(lastGoodTime),
                result.firstBadSeq(), time(firstBadTime), where.writeOf(set, result.firstBadSeq()), result.steps().size());
        json.putAll(Output.map("lastGoodSeq", lastGood, "lastGoodTime", lastGoodTime == null ? null : lastGoodTime.toString(),
                "firstBadSeq", result.firstBadSeq(), "firstBadTime", firstBadTime == null ? null : firstBadTime.toString(),
                "restoreCommand", restoreCommand));
        if (!restore) {
            out.line("restore with: %s", restoreCommand);
            out.json(json);
            return;
        }
        out.line("restoring set %s to seq %d, coordinated:", setName, lastGood);
        RestoreCommand inPlace = new RestoreCommand();
        inPlace.setName = setName;
        inPlace.target = new RestoreCommand.Target();
        inPlace.target.seq = lastGood;
        inPlace.coordinated = true;
        StringWriter restoreJson = new StringWriter();
        Output restoreOut = out.isJson() ? new Output(new PrintWriter(restoreJson), out.err(), true, false) : out;
        try {
            new CoordinatedRestoreRun(data, set, lastGood, null, restoreOut)
                    .run(startTimeout, () -> inPlace.restoreInPlace(data, set, lastGood, restoreOut));
        } catch (ReportedFailure f) {
            json.put("restore", f.report());
            throw new ReportedFailure(f.getMessage(), json);
        }
        if (out.isJson()) {
            json.put("restore", restoreJson.toString().isBlank() ? null : new ObjectMapper().readValue(restoreJson.toString(), Map.class));
            out.json(json);
        }
    }

    private static String time(Instant t) {
        return t == null ? "the set's creation" : Output.humanTime(t);
    }

    private static String seconds(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private Duration startTimeout() {
        return durationOption("--timeout", timeout);
    }

    /** Where a step's seq lies in the set's transactions, in words. */
    private record BisectSteps(List<Transaction> transactions) {
        String describe(BisectStep step) {
            String end = step.isEnd() ? (step.number() == 1 ? "--good, " : "--bad, ") : "";
            return end + place(step.seq());
        }

        String place(long seq) {
            if (seq == 0) {
                return "the set as created";
            }
            for (Transaction t : transactions) {
                if (t.lastSeq() == seq) {
                    return "transaction " + t.id() + " boundary";
                }
                if (t.contains(seq)) {
                    return "write " + (seq - t.firstSeq() + 1) + " of " + t.writes() + " in transaction " + t.id();
                }
            }
            long lastCut = transactions.isEmpty() ? 0 : transactions.get(transactions.size() - 1).lastSeq();
            return "write " + (seq - lastCut) + " after the newest cut";
        }

        /** "data write at offset 4096, 8192 bytes" for a seq still in the journal. */
        String writeOf(CapturedSet set, long seq) {
            if (seq < set.journal().firstSeq()) {
                return place(seq);
            }
            var rec = set.journalRecord(seq);
            return set.record().members().get(rec.memberIndex()).name() + " " + LogCommand.eventName(rec.type())
                    + " at offset " + rec.offsetBytes() + ", " + rec.lengthBytes() + " bytes";
        }
    }
}
