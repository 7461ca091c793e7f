package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.catalog.RestoreRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "log", mixinStandardHelpOptions = true, description = "List a set's writes, newest first, with its bookmarks and restores; a page at a time.",
        footer = {"", "Examples:", "  rewind log shop", "  rewind log shop --limit 200 --before 5000", "  rewind log shop --json"})
final class LogCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "Writes per page (default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--before", paramLabel = "SEQ", description = "Start the page below this seq (for the next page, use the JSON's nextBefore).")
    Long before;

    @Override
    void run(DataDir data, Output out) throws Exception {
        if (limit < 1 || limit > 100_000) {
            throw new RewindException("--limit must be between 1 and 100000");
        }
        List<BookmarkRecord> bookmarks = data.catalog().listBookmarks(setName);
        List<RestoreRecord> restores = data.catalog().listRestores(setName);
        try (CapturedSet set = data.openSet(setName)) {
            long top = before == null ? set.lastSeq() : Math.min(before - 1, set.lastSeq());
            long bottom = Math.max(set.journal().firstSeq(), top - limit + 1);
            List<Map<String, Object>> entries = new ArrayList<>();
            out.line("set %s: newest seq %d, flushed %d", setName, set.lastSeq(), set.flushedSeq());
            var interrupted = set.interruptedRestore();
            interrupted.ifPresent(ir -> out.line("RESTORE INTERRUPTED: %s", ir.describe(setName)));
            out.line("%10s  %-26s  %-8s  %-12s  %14s  %10s", "SEQ", "TIME", "MEMBER", "EVENT", "OFFSET", "LENGTH");
            for (long seq = top; seq >= bottom; seq--) {
                for (BookmarkRecord b : bookmarks) {
                    if (b.seq() == seq) {
                        out.line("%10d  bookmark '%s'", seq, b.name());
                    }
                }
                for (RestoreRecord r : restores) {
                    if (r.lastSeq() == seq) {
                        out.line("%10s  restore to seq %d wrote seqs %d..%d (undo: --to-seq %d)", "", r.targetSeq(), r.firstSeq(), r.lastSeq(), r.firstSeq() - 1);
                    }
                }
                if (interrupted.isPresent() && interrupted.get().restoreSeqsWritten() > 0 && interrupted.get().lastRestoreSeq() == seq) {
                    out.line("%10s  restore to seq %d INTERRUPTED after seqs %d..%d (finish: %s)", "", interrupted.get().intent().targetSeq(),
                            interrupted.get().intent().firstRestoreSeq(), seq, dev.rewind.capture.InterruptedRestore.resumeCommand(setName));
                }
                JournalRecord rec = set.journalRecord(seq);
                String member = set.record().members().get(rec.memberIndex()).name();
                String event = eventName(rec.type()) + (rec.isRestore() ? "*" : "");
                out.line("%10d  %-26s  %-8s  %-12s  %14d  %10d", seq, Output.humanTime(rec.time()), member, event, rec.offsetBytes(), rec.lengthBytes());
                entries.add(Output.map("seq", seq, "time", rec.time().toString(), "member", member, "type", eventName(rec.type()),
                        "offsetBytes", rec.offsetBytes(), "lengthBytes", rec.lengthBytes(), "restore", rec.isRestore()));
            }
            if (top < bottom) {
                out.line("(no writes%s)", before == null ? " yet" : " below seq " + before);
            } else if (bottom > set.journal().firstSeq()) {
                out.line("more: rewind log %s --before %d", setName, bottom);
            }
            out.line("(* = written by a restore)");
            out.json(Output.map("set", setName, "lastSeq", set.lastSeq(), "flushedSeq", set.flushedSeq(),
                    "entries", entries,
                    "bookmarks", bookmarks.stream().map(b -> Output.map("name", b.name(), "seq", b.seq(), "consistent", b.consistent())).toList(),
                    "restores", restores.stream().map(r -> Output.map("targetSeq", r.targetSeq(), "firstSeq", r.firstSeq(), "lastSeq", r.lastSeq(),
                            "bytesWritten", r.bytesWritten())).toList(),
                    "interruptedRestore", interrupted.map(ir -> RestoreCommand.interruptedJson(setName, ir)).orElse(null),
                    "nextBefore", bottom > set.journal().firstSeq() && top >= bottom ? bottom : null));
        }
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
