package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.cli.db.ConsistentBookmark;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind bookmark SET NAME}: names a seq. Its subcommands {@code list} and {@code delete}
 * take the words {@code list} and {@code delete} wherever they stand, which is why no set may be
 * called that (see {@link SetCommand.Create}); after {@code --} they are plain names again
 * ({@code rewind bookmark shop -- list} names a bookmark "list").
 */
@Command(name = "bookmark", mixinStandardHelpOptions = true,
        description = {"Name the newest write of a set (or a given seq), to restore to it later by name. The seq is made durable "
                + "and, unless it is older than the newest cut, a transaction boundary (the open transaction is cut there), so "
                + "it lasts past the every-write horizon; an older seq stays an exact write, kept while the bookmark exists.",
                "Names: 1 to " + BookmarkCommand.MAX_NAME_LENGTH + " characters, no control characters. "
                        + "A bookmark called list or delete: put -- before the set name (rewind bookmark -- shop list).",
                "--consistent takes it through the set's attached database (rewind db attach): the database's files are made "
                + "consistent (PostgreSQL: CHECKPOINT and a restore point of the same name; MariaDB: BACKUP STAGE; H2: CHECKPOINT SYNC), "
                + "the set is flushed at that instant, and the bookmark keeps the database's position beside its seq."},
        subcommands = {BookmarkCommand.ListBookmarks.class, BookmarkCommand.Delete.class},
        footer = {"", "Examples:", "  rewind bookmark shop before-upgrade", "  rewind bookmark shop after-load --seq 41234",
                "  rewind bookmark shop before-upgrade --consistent",
                "  rewind bookmark list shop", "  rewind bookmark delete shop before-upgrade",
                "  rewind restore shop --to-bookmark before-upgrade"})
final class BookmarkCommand extends Subcommand {
    static final int MAX_NAME_LENGTH = 128;

    // Optional to picocli only: it checks a parent's required parameters even when a subcommand follows.
    @Parameters(index = "0", arity = "0..1", paramLabel = "SET")
    String setName;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME")
    String name;

    @Option(names = "--seq", paramLabel = "N", description = "Bookmark this seq instead of the newest.")
    Long seq;

    @Option(names = "--consistent", description = "Take it through the attached database, at a moment its files are consistent, with its position.")
    boolean consistent;

    @Override
    void run(DataDir data, Output out) throws Exception {
        if (setName == null || name == null) {
            throw new ParameterException(spec.commandLine(), "Missing required parameter" + (setName == null ? "s: 'SET', 'NAME'" : ": 'NAME'"));
        }
        checkName(spec, name);
        if (data.catalog().findBookmark(setName, name).isPresent()) {
            throw new RewindException("set " + setName + " already has a bookmark named " + name + "; choose another name");
        }
        if (consistent) {
            takeConsistent(data, out);
            return;
        }
        try (CapturedSet set = data.openSet(setName)) {
            long at = set.bookmarkPoint(seq != null ? OptionalLong.of(seq) : OptionalLong.empty());
            Instant now = data.clock().instant();
            BookmarkRecord b = new BookmarkRecord(setName, name, at, Times.micros(now), false, null);
            data.catalog().insertBookmark(b);
            out.line("bookmarked set %s at seq %d as '%s'", setName, at, name);
            out.json(Output.map("set", setName, "name", name, "seq", at, "createdAt", Times.format(now), "consistent", false));
        }
    }

    private void takeConsistent(DataDir data, Output out) throws Exception {
        if (seq != null) {
            throw new ParameterException(spec.commandLine(), "--consistent bookmarks the seq at which the database is consistent; it cannot take --seq");
        }
        var attachment = AttachedDatabase.of(data.catalog(), setName);
        try (DatabaseAdapter adapter = AttachedDatabase.open(attachment); CapturedSet set = data.openSet(setName)) {
            ConsistentBookmark.Taken taken = ConsistentBookmark.take(data.catalog(), set, adapter, name, data.clock());
            BookmarkRecord b = taken.bookmark();
            out.line("bookmarked set %s at seq %d as '%s', consistent: %s %s", setName, b.seq(), name, attachment.engine(),
                    b.dbPosition() == null ? "(no position)" : b.dbPosition());
            if (taken.point().detail() != null && !taken.point().detail().equals(b.dbPosition())) {
                out.line("  %s", taken.point().detail());
            }
            Map<String, Object> json = describe(b);
            json.put("set", setName);
            json.put("detail", taken.point().detail());
            out.json(json);
        }
    }

    /**
     * A bookmark name must print on one line and be typed back: 1 to {@value #MAX_NAME_LENGTH}
     * characters, none of them control, format or line/paragraph separator characters.
     */
    static void checkName(CommandSpec spec, String name) {
        if (name.isEmpty() || name.isBlank()) {
            throw new ParameterException(spec.commandLine(), "bookmark name is empty; give 1 to " + MAX_NAME_LENGTH + " characters");
        }
        if (name.codePointCount(0, name.length()) > MAX_NAME_LENGTH) {
            throw new ParameterException(spec.commandLine(), "bookmark name is " + name.codePointCount(0, name.length())
                    + " characters long; the most is " + MAX_NAME_LENGTH);
        }
        int bad = name.codePoints().filter(BookmarkCommand::isUnprintable).findFirst().orElse(-1);
        if (bad >= 0) {
            throw new ParameterException(spec.commandLine(), String.format("bookmark name contains control character U+%04X; "
                    + "use letters, digits, spaces and punctuation", bad));
        }
    }

    private static boolean isUnprintable(int codePoint) {
        int type = Character.getType(codePoint);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR || type == Character.UNASSIGNED || type == Character.SURROGATE;
    }

    static Map<String, Object> describe(BookmarkRecord b) {
        Instant created = Times.ofMicros(b.createdAtMicros());
        return Output.map("name", b.name(), "seq", b.seq(), "createdAt", Times.format(created), "consistent", b.consistent(),
                "dbPosition", b.dbPosition());
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = {"List a set's bookmarks, newest seq first, each with its state:",
            "boundary (a transaction boundary: it outlives the every-write horizon), exact (a single write, restorable while the "
            + "journal keeps it), or gone (no longer restorable, with why); unknown when the set cannot be opened."},
            footer = {"", "Examples:", "  rewind bookmark list shop", "  rewind bookmark list shop --json"})
    static final class ListBookmarks extends Subcommand {
        @Parameters(index = "0", paramLabel = "SET")
        String setName;

        @Override
        void run(DataDir data, Output out) throws java.io.IOException {
            data.volumes().findSet(setName);
            List<BookmarkRecord> bookmarks = data.catalog().listBookmarks(setName);
            List<Map<String, Object>> rows = new ArrayList<>();
            if (bookmarks.isEmpty()) {
                out.line("set %s has no bookmarks; add one with: rewind bookmark %s NAME", setName, setName);
                out.json(Output.map("set", setName, "bookmarks", rows));
                return;
            }
            List<String[]> states = states(data, bookmarks);
            out.line("%10s  %-27s  %-10s  %-8s  %s", "SEQ", "CREATED", "CONSISTENT", "STATE", "NAME");
            for (int i = 0; i < bookmarks.size(); i++) {
                BookmarkRecord b = bookmarks.get(i);
                Map<String, Object> row = describe(b);
                row.put("state", states.get(i)[0]);
                row.put("why", states.get(i)[1]);
                rows.add(row);
                out.line("%10d  %-27s  %-10s  %-8s  %s%s", b.seq(), row.get("createdAt"), b.consistent() ? "yes" : "no", states.get(i)[0],
                        b.name(), states.get(i)[1] == null ? "" : " (" + states.get(i)[1] + ")");
            }
            out.json(Output.map("set", setName, "bookmarks", rows));
        }

        /** Per bookmark: boundary, exact or gone (with why), or unknown (with why) when the set cannot be opened. */
        private List<String[]> states(DataDir data, List<BookmarkRecord> bookmarks) throws java.io.IOException {
            List<String[]> states = new ArrayList<>();
            try (CapturedSet set = data.openSet(setName)) {
                var history = set.history();
                for (BookmarkRecord b : bookmarks) {
                    try {
                        history.checkPlaceable(b.seq());
                        states.add(new String[] {history.transactions().isBoundary(b.seq()) ? "boundary" : "exact", null});
                    } catch (RewindException e) {
                        states.add(new String[] {"gone", e.getMessage()});
                    }
                }
            } catch (RewindException e) {
                for (int i = 0; i < bookmarks.size(); i++) {
                    states.add(new String[] {"unknown", e.getMessage()});
                }
            }
            return states;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Delete a bookmark. Only the name goes: the writes stay, and the message says how to name the seq again."},
            footer = {"", "Example:", "  rewind bookmark delete shop before-upgrade"})
    static final class Delete extends Subcommand {
        @Parameters(index = "0", paramLabel = "SET")
        String setName;

        @Parameters(index = "1", paramLabel = "NAME")
        String name;

        @Override
        void run(DataDir data, Output out) {
            data.volumes().findSet(setName);
            BookmarkRecord b = data.catalog().findBookmark(setName, name)
                    .orElseThrow(() -> new RewindException("set " + setName + " has no bookmark named " + name + "; see rewind bookmark list " + setName));
            data.catalog().deleteBookmark(setName, name);
            out.line("deleted bookmark '%s' of set %s (seq %d); to name it again: rewind bookmark %s %s --seq %d",
                    name, setName, b.seq(), setName, name, b.seq());
            out.json(Output.map("set", setName, "deleted", describe(b)));
        }
    }
}
