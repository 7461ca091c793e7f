package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.cli.db.DatabaseLog;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.dbadapters.locate.LogTargets;
import dev.rewind.dbadapters.locate.PositionTarget;
import dev.rewind.dbadapters.locate.SampledRelationNames;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind db find}: the statements in the database's log that match, each with the seq
 * just before the write that put it on disk ({@link LogTargets#before}), and for the newest
 * the restore command to paste.
 */
@Command(name = "find", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Find statements in the attached database's log (PostgreSQL: its WAL through pg_waldump; MariaDB: its binlog)",
                "and the seq just before each: TIME, POSITION, GTID, SEQ BEFORE (exact, or sampled when only samples bound it), "
                + "and, for the newest, the restore command that undoes it."},
        footer = {"", "Examples:", "  rewind db find shop --sql 'DROP TABLE'",
                "  rewind db find shop --sql 'TRUNCATE orders' \\",
                "      --since 2026-11-25T14:00:00Z --until 2026-11-25T15:00:00Z",
                "  rewind db find shop --sql 'DROP TABLE' --json",
                "  rewind db find shop --sql 'DROP TABLE' --mount /mnt/pgdata"})
final class DbFindCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Option(names = "--sql", required = true, paramLabel = "TEXT", description = "What the statement did, e.g. 'DROP TABLE', 'TRUNCATE orders' (case and spacing ignored).")
    String sql;

    @Option(names = "--since", paramLabel = "TIME", description = "Only statements committed at or after this time (ISO-8601; local time if no zone).")
    String since;

    @Option(names = "--until", paramLabel = "TIME", description = "Only statements committed before this time.")
    String until;

    @Option(names = "--mount", paramLabel = "DIR", description = "Read the log files under DIR, where the file system holding the "
            + "database's data dir is mounted, without asking the server. Without it, a server that does not answer has its log read "
            + "where its data dir was mounted, or else on a read-only view of the set's newest seq.")
    Path mount;

    @Override
    void run(DataDir data, Output out) throws Exception {
        data.volumes().findSet(setName);
        if (sql.isBlank()) {
            throw new RewindException("--sql is empty; give what the statement did, e.g. --sql 'DROP TABLE'");
        }
        Instant sinceTime = since == null ? null : Times.parse(since);
        Instant untilTime = until == null ? null : Times.parse(until);
        DatabaseAttachment a = AttachedDatabase.of(data.catalog(), setName);
        try (CapturedSet set = data.openSet(setName); DatabaseLog log = DatabaseLog.open(data, set, a, mount)) {
            DatabaseAdapter adapter = log.adapter();
            log.source().ifPresent(source -> out.line("%s", source));
            FoundStatements result = adapter.search(new StatementQuery(sql, sinceTime, untilTime, SampledRelationNames.of(set, data.catalog())));
            List<FoundStatement> found = result.statements();
            String searched = searched(a, result);
            out.line("%s", searched);
            LogTargets targets = new LogTargets(set, data.catalog(), log.mounts(), adapter);
            List<Map<String, Object>> rows = new ArrayList<>();
            String restoreCommand = null;
            if (found.isEmpty()) {
                out.line("no statement matching '%s' in the log of set %s's database%s", sql, setName, window(sinceTime, untilTime));
            } else {
                out.line("%-27s  %-24s  %-16s  %-18s  %s", "TIME", "POSITION", "GTID", "SEQ BEFORE", "DESCRIPTION");
            }
            for (FoundStatement f : found) {
                PositionTarget target = null;
                String unplaced = null;
                try {
                    target = targets.before(f.position());
                } catch (RewindException e) {
                    unplaced = e.getMessage();
                }
                String seqText = target == null ? "-" : target.seq() + (target.exact() ? " exact" : " sampled");
                out.line("%-27s  %-24s  %-16s  %-18s  %s", f.time() == null ? "-" : Times.format(f.time()), f.position().text(),
                        f.gtid() == null ? "-" : f.gtid(), seqText, f.description());
                if (unplaced != null) {
                    out.line("%27s  (%s)", "", unplaced);
                }
                rows.add(Output.map("time", f.time() == null ? null : Times.format(f.time()), "position", f.position().text(),
                        "gtid", f.gtid(), "description", f.description(), "seqBefore", target == null ? null : target.seq(),
                        "exact", target == null ? null : target.exact(), "how", target == null ? unplaced : target.how(),
                        "unnamed", f.unnamed()));
                if (target != null && !f.unnamed()) {
                    restoreCommand = "rewind restore " + setName + " " + beforeOption(a) + " " + f.position().text() + " --coordinated";
                }
            }
            if (restoreCommand != null) {
                out.line("to restore to just before the newest: %s", restoreCommand);
            }
            if (found.stream().anyMatch(FoundStatement::unnamed)) {
                out.line("a drop of an unnamed relation may be the table asked for: no relation names were sampled before it "
                        + "(rewind serve samples them); its restore command is not offered");
            }
            out.json(Output.map("set", setName, "engine", a.engine(), "sql", sql, "logReadFrom", log.source().orElse(null), "searched", searched,
                    "searchedFrom", result.searchedFrom() == null ? null : result.searchedFrom().text(),
                    "searchedTo", result.searchedTo() == null ? null : result.searchedTo().text(), "statements", rows,
                    "restoreCommand", restoreCommand));
        }
    }

    /** The restore option that takes a position of this engine, for the command to paste. */
    static String beforeOption(DatabaseAttachment a) {
        return Engine.ofLabel(a.engine()) == Engine.MARIADB ? "--before-binlog" : "--before-lsn";
    }

    /** {@code searched LSN 0/1000000 to 0/3A0000F8}, or that there was no log to read. */
    static String searched(DatabaseAttachment a, FoundStatements result) {
        String what = Engine.ofLabel(a.engine()) == Engine.MARIADB ? "binlog" : "LSN";
        if (result.searchedFrom() == null) {
            return "searched no " + (what.equals("LSN") ? "WAL" : "binlog") + ": the database has none on disk";
        }
        return "searched " + what + " " + result.searchedFrom().text() + " to " + result.searchedTo().text();
    }

    private static String window(Instant since, Instant until) {
        if (since == null && until == null) {
            return "";
        }
        return " between " + (since == null ? "its oldest log" : Times.format(since)) + " and " + (until == null ? "now" : Times.format(until));
    }
}
