package dev.rewind.capture;

import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;

/** Finds the seq a bookmark names (the bookmarks live in the catalog), for {@link PointResolver}. */
@FunctionalInterface
public interface BookmarkLookup {
    /** One bookmark of a set: its name, the seq it names, when it was taken, and whether a database adapter took it. */
    record Bookmark(String name, long seq, Instant createdAt, boolean consistent) {
    }

    /** The seq of bookmark {@code bookmark} of set {@code setName}, or empty if the set has no such bookmark. */
    OptionalLong seqOf(String setName, String bookmark);

    /** Every bookmark of set {@code setName}, oldest seq first (none, unless the lookup knows how to list them). */
    default List<Bookmark> list(String setName) {
        return List.of();
    }
}
