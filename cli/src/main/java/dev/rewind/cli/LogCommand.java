package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.catalog.RestoreRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind log}: a set's writes newest first, a page at a time, narrowed by time (through
 * the journal index's time lookup, so only the seqs in the window are visited), by member and by
 * the byte a write touches. Times print as {@link Times#format}, the form {@code --to-time},
 * {@code @time:} and {@code --since}/{@code --until} read back. A set with a database attached
 * gets one more column: the database's position at each seq, on the lineage the set had then
 * ({@link DbPositionColumn}).
 */
@Command(name = "log", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"List a set's writes, newest first, with its bookmarks and restores; a page at a time.",
                "Times are ISO-8601 in UTC (e.g. 2026-11-25T21:54:15.308576Z); copy one into --to-time, @time: or --since/--until.",
                "With a database attached, DB POSITION shows the log position (LSN, binlog) the volumes held at each seq, as sampled; "
                        + "a restore's own writes show the position of the point it restores."},
        footer = {"", "Examples:", "  rewind log shop", "  rewind log shop --limit 200 --before 5000",
                "  rewind log shop --since 2026-11-25T21:50:00Z --until 2026-11-25T21:55:00Z",
                "  rewind log shop --member data --offset 31436800", "  rewind log shop --json",
                "  rewind log shop --transactions", "  rewind log shop --transaction 12 --json"})
final class LogCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "Writes per page (default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--before", paramLabel = "SEQ", description = "Start the page below this seq (for the next page, use the JSON's nextBefore).")
    Long before;

    @Option(names = "--since", paramLabel = "TIME", description = "Only writes at or after this time (ISO-8601; local time if no zone).")
    String since;

    @Option(names = "--until", paramLabel = "TIME", description = "Only writes at or before this time.")
    String until;

    @Option(names = "--member", paramLabel = "NAME", description = "Only writes to this member.")
    String member;

    @Option(names = "--offset", paramLabel = "BYTES", description = "Only writes, trims and write-zeroes touching this byte of the member.")
    Long offset;

    @Option(names = "--transactions", description = "List the set's transactions instead, newest first: seqs, times, writes, why cut, compression.")
    boolean transactions;

    @Option(names = "--transaction", paramLabel = "ID", description = "Show one transaction with its forward and backward increments: files, sizes, compression ratio.")
    Long transaction;

    @Override
    void run(DataDir data, Output out) throws Exception {
        if (transactions || transaction != null) {
            if (transactions && transaction != null) {
                throw new ParameterException(spec.commandLine(), "give --transactions or --transaction ID, not both");
            }
            data.volumes().findSet(setName);
            try (CapturedSet set = data.openSet(setName)) {
                if (transactions) {
                    TransactionsView.list(data.catalog(), set, out);
                } else {
                    TransactionsView.show(data.catalog(), set, transaction, out);
                }
            }
            return;
        }
        if (limit < 1 || limit > 100_000) {
            throw new RewindException("--limit must be between 1 and 100000");
        }
        if (offset != null && offset < 0) {
            throw new ParameterException(spec.commandLine(), "--offset must be 0 or more");
        }
        Instant sinceTime = since == null ? null : Times.parse(since);
        Instant untilTime = until == null ? null : Times.parse(until);
        List<BookmarkRecord> bookmarks = data.catalog().listBookmarks(setName);
        List<RestoreRecord> restores = data.catalog().listRestores(setName);
        try (CapturedSet set = data.openSet(setName)) {
            Journal journal = set.journal();
            int memberIndex = memberFilter(set);
            long top = before == null ? set.lastSeq() : Math.min(before - 1, set.lastSeq());
            if (untilTime != null) {
                top = Math.min(top, journal.lastSeqAtOrBefore(untilTime));
            }
            long floor = journal.firstSeq();
            if (sinceTime != null) {
                floor = Math.max(floor, journal.lastSeqAtOrBefore(sinceTime.minusNanos(1)) + 1);
            }
            Map<Long, List<String>> notes = notesBySeq(bookmarks, restores);
            List<Map<String, Object>> entries = new ArrayList<>();
            out.line("set %s: newest seq %d, flushed %d", setName, set.lastSeq(), set.flushedSeq());
            var interrupted = set.interruptedRestore();
            interrupted.ifPresent(ir -> out.line("RESTORE INTERRUPTED: %s", ir.describe(setName)));
            boolean db = data.catalog().databases().attachment(setName).isPresent();
            DbPositionColumn positions = db ? new DbPositionColumn(data.catalog().databases(), setName, restores) : null;
            out.line("%10s  %-27s  %-8s  %-12s  %14s  %10s%s", "SEQ", "TIME", "MEMBER", "EVENT", "OFFSET", "LENGTH", db ? "  DB POSITION" : "");
            long seq = top;
            for (; seq >= floor && entries.size() < limit; seq--) {
                for (String note : notes.getOrDefault(seq, List.of())) {
                    out.line(note);
                }
                if (!matches(journal, seq, memberIndex)) {
                    continue;
                }
                if (interrupted.isPresent() && interrupted.get().restoreSeqsWritten() > 0 && interrupted.get().lastRestoreSeq() == seq) {
                    out.line("%10s  restore to seq %d INTERRUPTED after seqs %d..%d (finish: %s)", "", interrupted.get().intent().targetSeq(),
                            interrupted.get().intent().firstRestoreSeq(), seq, dev.rewind.increments.restore.InterruptedRestore.resumeCommand(setName));
                }
                JournalRecord rec = set.journalRecord(seq);
                String memberName = set.record().members().get(rec.memberIndex()).name();
                String event = eventName(rec.type()) + (rec.isRestore() ? "*" : "");
                String time = Times.format(rec.time());
                String position = db ? positions.positionAt(seq) : null;
                out.line("%10d  %-27s  %-8s  %-12s  %14d  %10d%s", seq, time, memberName, event, rec.offsetBytes(), rec.lengthBytes(),
                        db ? "  " + (position == null ? "-" : position) : "");
                Map<String, Object> entry = Output.map("seq", seq, "time", time, "member", memberName, "type", eventName(rec.type()),
                        "offsetBytes", rec.offsetBytes(), "lengthBytes", rec.lengthBytes(), "restore", rec.isRestore());
                if (db) {
                    entry.put("dbPosition", position);
                }
                entries.add(entry);
            }
            Long nextBefore = seq >= floor ? seq + 1 : null;
            if (entries.isEmpty()) {
                out.line("(no writes%s)", filtered() ? " match" : before == null ? " yet" : " below seq " + before);
            }
            if (nextBefore != null) {
                out.line("more: rewind log %s --before %d%s", setName, nextBefore, filterArgs());
            }
            out.line("(* = written by a restore)");
            out.json(Output.map("set", setName, "lastSeq", set.lastSeq(), "flushedSeq", set.flushedSeq(),
                    "entries", entries,
                    "bookmarks", bookmarks.stream().map(b -> Output.map("name", b.name(), "seq", b.seq(), "consistent", b.consistent())).toList(),
                    "restores", restores.stream().map(r -> Output.map("targetSeq", r.targetSeq(), "firstSeq", r.firstSeq(), "lastSeq", r.lastSeq(),
                            "bytesWritten", r.bytesWritten())).toList(),
                    "interruptedRestore", interrupted.map(ir -> RestoreCommand.interruptedJson(setName, ir)).orElse(null),
                    "nextBefore", nextBefore));
        }
    }

    /** The member index to keep, or -1 for every member; --offset needs a member when the set has several. */
    private int memberFilter(CapturedSet set) {
        if (member != null) {
            return set.memberIndex(member);
        }
        if (offset != null) {
            if (set.devices().size() > 1) {
                throw new ParameterException(spec.commandLine(), "--offset needs --member: set " + setName + " has members "
                        + String.join(", ", set.devices().stream().map(d -> d.name()).toList()));
            }
            return 0;
        }
        return -1;
    }

    /** Reads only the index columns it needs, not the record. */
    private boolean matches(Journal journal, long seq, int memberIndex) {
        if (memberIndex >= 0 && journal.memberOf(seq) != memberIndex) {
            return false;
        }
        if (offset != null) {
            long start = journal.offsetOf(seq);
            return offset >= start && offset < start + journal.lengthOf(seq);
        }
        return true;
    }

    private boolean filtered() {
        return since != null || until != null || member != null || offset != null;
    }

    private String filterArgs() {
        StringBuilder sb = new StringBuilder();
        if (limit != 50) {
            sb.append(" --limit ").append(limit);
        }
        if (since != null) {
            sb.append(" --since ").append(Times.format(Times.parse(since)));
        }
        if (until != null) {
            sb.append(" --until ").append(Times.format(Times.parse(until)));
        }
        if (member != null) {
            sb.append(" --member ").append(member);
        }
        if (offset != null) {
            sb.append(" --offset ").append(offset);
        }
        return sb.toString();
    }

    private static Map<Long, List<String>> notesBySeq(List<BookmarkRecord> bookmarks, List<RestoreRecord> restores) {
        Map<Long, List<String>> notes = new HashMap<>();
        for (BookmarkRecord b : bookmarks) {
            notes.computeIfAbsent(b.seq(), s -> new ArrayList<>()).add(String.format("%10d  bookmark '%s'", b.seq(), b.name()));
        }
        for (RestoreRecord r : restores) {
            notes.computeIfAbsent(r.lastSeq(), s -> new ArrayList<>()).add(String.format("%10s  restore to seq %d wrote seqs %d..%d (undo: --to-seq %d)",
                    "", r.targetSeq(), r.firstSeq(), r.lastSeq(), r.firstSeq() - 1));
        }
        return notes;
    }

    static String eventName(RecordType type) {
        return switch (type) {
            case WRITE -> "write";
            case TRIM -> "trim";
            case WRITE_ZEROES -> "write-zeroes";
            case FLUSH_MARK -> "flush";
        };
    }
}
