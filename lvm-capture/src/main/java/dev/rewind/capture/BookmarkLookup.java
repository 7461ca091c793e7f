package dev.rewind.capture;

import java.util.OptionalLong;

/** Finds the seq a bookmark names (the bookmarks live in the catalog), for {@link PointResolver}. */
@FunctionalInterface
public interface BookmarkLookup {
    /** The seq of bookmark {@code bookmark} of set {@code setName}, or empty if the set has no such bookmark. */
    OptionalLong seqOf(String setName, String bookmark);
}
