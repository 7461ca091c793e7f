package dev.rewind.capture;

import dev.rewind.volumeset.MalformedValueException;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import java.util.OptionalLong;

/**
 * The one place a point in a set's history (a seq, a bookmark, or a time) becomes a seq: for
 * {@code rewind restore --to-seq/--to-bookmark/--to-time}, for past exports such as
 * {@code shop/data@bookmark:NAME}, and for anything else that names a point. A time resolves
 * to the last write at or before it (the transaction that holds it is found first). Whether
 * the seq can still be restored is the caller's next question ({@link CapturedSet#checkRestorable}).
 */
public final class PointResolver {
    /** The prefix of a bookmark in a point such as {@code bookmark:before-upgrade}. */
    public static final String BOOKMARK = "bookmark:";
    /** The prefix of a time in a point such as {@code time:2026-11-25T21:54:15Z}. */
    public static final String TIME = "time:";

    private final CapturedSet set;
    private final BookmarkLookup bookmarks;

    public PointResolver(CapturedSet set, BookmarkLookup bookmarks) {
        this.set = set;
        this.bookmarks = bookmarks;
    }

    /** A seq given as a number: 0 (the set as created) or more. */
    public long seq(long seq) {
        if (seq < 0) {
            throw new MalformedValueException("a seq must be 0 or more, got " + seq);
        }
        return seq;
    }

    /** The seq a bookmark of the set names. */
    public long bookmark(String name) {
        OptionalLong seq = bookmarks.seqOf(set.name(), name);
        if (seq.isEmpty()) {
            throw new RewindException("set " + set.name() + " has no bookmark named " + name + "; see rewind log " + set.name());
        }
        return seq.getAsLong();
    }

    /** The last write at or before an ISO-8601 time (local time if it has no zone). */
    public long time(String text) {
        return set.seqAtTime(Times.parse(text));
    }

    /**
     * A point as text: {@code <seq>}, {@code bookmark:NAME} or {@code time:ISO-8601};
     * {@code where} names what held it, for the message when it is none of them.
     */
    public long point(String text, String where) {
        if (text.startsWith(BOOKMARK)) {
            return bookmark(text.substring(BOOKMARK.length()));
        }
        if (text.startsWith(TIME)) {
            return time(text.substring(TIME.length()));
        }
        if (!text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new MalformedValueException("seq " + text + " in " + where + " is too large");
            }
        }
        throw new MalformedValueException("'" + text + "' in " + where + " is not a point in time; use a seq, bookmark:NAME or "
                + "time:2024-05-01T12:00:00Z");
    }
}
