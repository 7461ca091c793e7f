package dev.rewind.capture.nbd;

import java.util.OptionalLong;

/** Finds the seq a bookmark names, for exports such as {@code shop/data@bookmark:before-upgrade}. */
@FunctionalInterface
public interface BookmarkLookup {
    /** The seq of bookmark {@code bookmark} of set {@code setName}, or empty if the set has no such bookmark. */
    OptionalLong seqOf(String setName, String bookmark);
}
