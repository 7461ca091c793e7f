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
import dev.rewind.volumeset.MalformedValueException;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind db find}: the statements in the database's log that match, each with the seq
 * just before the write that put it on disk ({@link LogTargets#before}), and for the newest
 * the restore command to paste. Where the log counts the rows a statement changed
 * (PostgreSQL's UPDATE and DELETE) and more match than {@code --top}, the ones that changed
 * most rows are listed (still oldest first), and the restore command for the one that
 * changed most is given beside the newest's.
 */
@Command(name = "find", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Find statements in the attached database's log (PostgreSQL: its WAL through pg_waldump; MariaDB: its binlog)",
                "and the seq just before each: TIME, POSITION, GTID, SEQ BEFORE (exact, or sampled when only samples bound it), "
                + "and, for the newest, the restore command that undoes it."},
        footer = {"", "Examples:", "  rewind db find shop --sql 'DROP TABLE'",
                "  rewind db find shop --sql 'TRUNCATE orders' \\",
                "      --since 2026-11-25T14:00:00Z --until 2026-11-25T15:00:00Z",
                "  rewind db find shop --sql 'UPDATE shop.orders'",
                "  rewind db find shop --xid 1234",
                "  rewind db find shop --sql 'DELETE FROM orders' --archive /srv/wal-archive",
                "  rewind db find shop --sql 'DROP TABLE' --json",
                "  rewind db find shop --sql 'DROP TABLE' --mount /mnt/pgdata"})
final class DbFindCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Option(names = "--sql", paramLabel = "TEXT", description = "What the statement did, e.g. 'DROP TABLE', 'TRUNCATE orders', "
            + "'UPDATE orders', 'DELETE FROM shop.orders' (case and spacing ignored).")
    String sql;

    @Option(names = "--xid", paramLabel = "N", description = "PostgreSQL: only the transaction with this id; without --sql, whatever it did.")
    Long xid;

    @Option(names = "--archive", paramLabel = "DIR", description = "PostgreSQL: also search the archived WAL segments in DIR "
            + "(WAL the server has already recycled).")
    Path archive;

    @Option(names = "--top", paramLabel = "N", defaultValue = "20", description = "When more statements match, list the N that changed "
            + "most rows (then the newest); 0 lists all (default: ${DEFAULT-VALUE}).")
    int top;

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
        if ((sql == null || sql.isBlank()) && xid == null) {
            throw new MalformedValueException("give --sql with what the statement did, e.g. --sql 'DROP TABLE', or --xid with a "
                    + "PostgreSQL transaction id");
        }
        if (xid != null && xid <= 0) {
            throw new MalformedValueException("--xid " + xid + " is not a transaction id; give a positive number, e.g. --xid 1234");
        }
        if (top < 0) {
            throw new MalformedValueException("--top " + top + " is negative; give 0 to list all, or how many to list");
        }
        Instant sinceTime = since == null ? null : Times.parse(since);
        Instant untilTime = until == null ? null : Times.parse(until);
        DatabaseAttachment a = AttachedDatabase.of(data.catalog(), setName);
        if ((xid != null || archive != null) && Engine.ofLabel(a.engine()) != Engine.POSTGRESQL) {
            throw new RewindException("--xid and --archive search PostgreSQL's WAL; set " + setName + "'s database is " + a.engine()
                    + ": search it with --sql");
        }
        Path archiveDir = archive == null ? null : data.resolve(archive); // as the caller meant it, also when the daemon runs the command
        if (archiveDir != null && !Files.isDirectory(archiveDir)) {
            throw new RewindException("--archive " + archive + " is not a directory; give the directory archive_command copies "
                    + "WAL segments to");
        }
        try (CapturedSet set = data.openSet(setName); DatabaseLog log = DatabaseLog.open(data, set, a, mount)) {
            DatabaseAdapter adapter = log.adapter();
            log.source().ifPresent(source -> out.line("%s", source));
            FoundStatements result = adapter.search(new StatementQuery(sql, sinceTime, untilTime, SampledRelationNames.of(set, data.catalog()),
                    xid, archiveDir));
            List<FoundStatement> found = topByRows(result.statements(), top);
            int omitted = result.statements().size() - found.size();
            String asked = sql != null && !sql.isBlank() ? "'" + sql + "'" : "transaction " + xid;
            String searched = searched(a, result);
            out.line("%s", searched);
            LogTargets targets = new LogTargets(set, data.catalog(), log.mounts(), adapter);
            List<Map<String, Object>> rows = new ArrayList<>();
            String restoreCommand = null;
            FoundStatement mostRows = null;
            String mostRowsCommand = null;
            if (found.isEmpty()) {
                out.line("no statement matching %s%s in the log of set %s's database%s", asked,
                        xid != null && sql != null && !sql.isBlank() ? " in transaction " + xid : "", setName, window(sinceTime, untilTime));
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
                        "unnamed", f.unnamed(), "rows", f.rows()));
                if (target != null && !f.unnamed()) {
                    restoreCommand = "rewind restore " + setName + " " + beforeOption(a) + " " + f.position().text() + " --coordinated";
                    if (f.rows() > 0 && (mostRows == null || f.rows() > mostRows.rows())) {
                        mostRows = f;
                        mostRowsCommand = restoreCommand;
                    }
                }
            }
            if (omitted > 0) {
                out.line("%d more matching statements not listed: they changed fewer rows, or as many and are older (--top 0 lists all)",
                        omitted);
            }
            if (restoreCommand != null) {
                out.line("to restore to just before the newest: %s", restoreCommand);
            }
            if (mostRowsCommand != null && !mostRowsCommand.equals(restoreCommand)) {
                out.line("to restore to just before the one that changed most rows (%d): %s", mostRows.rows(), mostRowsCommand);
            }
            if (found.stream().anyMatch(FoundStatement::unnamed)) {
                out.line("a statement on an unnamed relation may be on the table asked for: no relation names sampled before it "
                        + "name its files (rewind serve samples them); its restore command is not offered");
            }
            out.json(Output.map("set", setName, "engine", a.engine(), "sql", sql, "xid", xid, "logReadFrom", log.source().orElse(null), "searched", searched,
                    "searchedFrom", result.searchedFrom() == null ? null : result.searchedFrom().text(),
                    "searchedTo", result.searchedTo() == null ? null : result.searchedTo().text(), "statements", rows,
                    "omitted", omitted, "restoreCommand", restoreCommand, "mostRowsRestoreCommand", mostRowsCommand));
        }
    }

    /**
     * At most {@code top} of {@code found} (0: all), oldest first: those that changed most rows,
     * then the newest.
     */
    static List<FoundStatement> topByRows(List<FoundStatement> found, int top) {
        if (top == 0 || found.size() <= top) {
            return found;
        }
        List<FoundStatement> kept = found.stream()
                .sorted(Comparator.comparingLong(FoundStatement::rows).thenComparing(FoundStatement::position).reversed())
                .limit(top).toList();
        return found.stream().filter(kept::contains).toList();
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
