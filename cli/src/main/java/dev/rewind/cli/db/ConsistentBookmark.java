package dev.rewind.cli.db;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.catalog.Catalog;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.OptionalLong;

/**
 * Takes a consistent bookmark: the adapter brings the database's files to a consistent state
 * and, at that instant, the set is cut at its newest write, which is the bookmark's seq (durable, a boundary);
 * the bookmark is stored as consistent with the database's position
 * ({@link ConsistentPoint#describe()}). Used by {@code rewind bookmark --consistent} and by the
 * scheduled job, which names its bookmarks {@code auto-<UTC time to the second>}.
 */
public final class ConsistentBookmark {
    private static final DateTimeFormatter AUTO_NAME = DateTimeFormatter.ofPattern("'auto-'yyyy-MM-dd'T'HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);

    private ConsistentBookmark() {
    }

    /** What was taken: the stored bookmark and the adapter's account of it. */
    public record Taken(BookmarkRecord bookmark, ConsistentPoint point) {
    }

    /** The name of a scheduled consistent bookmark taken at {@code time}. */
    public static String autoName(Instant time) {
        return AUTO_NAME.format(time.truncatedTo(ChronoUnit.SECONDS));
    }

    /** Takes and stores the bookmark {@code name} of {@code set}; refuses a name the set already has, before touching the database. */
    public static Taken take(Catalog catalog, CapturedSet set, DatabaseAdapter adapter, String name, Clock clock) throws IOException {
        if (catalog.findBookmark(set.name(), name).isPresent()) {
            throw new RewindException("set " + set.name() + " already has a bookmark named " + name + "; choose another name");
        }
        ConsistentPoint point = adapter.consistentPoint(name, () -> set.bookmarkPoint(OptionalLong.empty()));
        set.checkRestorable(point.seq());
        BookmarkRecord b = new BookmarkRecord(set.name(), name, point.seq(), Times.micros(clock.instant()), true, point.describe());
        catalog.insertBookmark(b);
        return new Taken(b, point);
    }
}
