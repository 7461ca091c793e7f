package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bookmark", mixinStandardHelpOptions = true, description = "Name the newest write of a set (or a given seq), to restore to it later by name.",
        footer = {"", "Examples:", "  rewind bookmark shop before-upgrade", "  rewind restore shop --to-bookmark before-upgrade"})
final class BookmarkCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Option(names = "--seq", paramLabel = "N", description = "Bookmark this seq instead of the newest.")
    Long seq;

    @Override
    void run(DataDir data, Output out) throws Exception {
        if (name.isBlank() || name.length() > 128) {
            throw new RewindException("bookmark name must be 1 to 128 characters");
        }
        if (data.catalog().findBookmark(setName, name).isPresent()) {
            throw new RewindException("set " + setName + " already has a bookmark named " + name + "; choose another name");
        }
        try (CapturedSet set = data.openSet(setName)) {
            set.flush();
            long at = seq != null ? seq : set.lastSeq();
            set.checkRestorable(at);
            Instant now = Instant.now();
            BookmarkRecord b = new BookmarkRecord(setName, name, at, now.getEpochSecond() * 1_000_000L + now.getNano() / 1000, false, null);
            data.catalog().insertBookmark(b);
            out.line("bookmarked set %s at seq %d as '%s'", setName, at, name);
            out.json(Output.map("set", setName, "name", name, "seq", at, "createdAt", now.toString(), "consistent", false));
        }
    }
}
