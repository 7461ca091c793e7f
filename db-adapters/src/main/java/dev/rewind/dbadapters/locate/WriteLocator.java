package dev.rewind.dbadapters.locate;

import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.journal.JournalRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * Finds the write that put given bytes on a member: in a seq window, the first seq of the
 * set's current lineage whose record is a write, write-zeroes or trim of that member
 * overlapping the range and after which the member holds {@code expected} there. Only the
 * records that overlap the range are read back ({@link CapturedSet#readAt}); the others are
 * looked at in the journal index. Before the every-write horizon single writes are gone, so
 * a window that starts there is searched from the horizon on and the answer says so when
 * nothing is found.
 */
public final class WriteLocator {
    /** What the search found: the seq, or none and why. */
    public record Match(OptionalLong seq, String whyNot) {
        static Match found(long seq) {
            return new Match(OptionalLong.of(seq), null);
        }

        static Match none(String why) {
            return new Match(OptionalLong.empty(), why);
        }
    }

    private WriteLocator() {
    }

    /**
     * The first seq in {@code fromSeq..toSeq} (both included) of {@code lineage} that wrote
     * member {@code memberIndex} at {@code offsetBytes..+expected.length} and after which the
     * bytes there equal {@code expected}.
     */
    public static Match firstWriteOf(CapturedSet set, int memberIndex, long offsetBytes, byte[] expected, long fromSeq, long toSeq,
            Lineage lineage) throws IOException {
        long horizon = set.oldestExactSeq() + 1; // the oldest seq whose single write is still journaled
        long from = Math.max(Math.max(fromSeq, horizon), 1);
        long to = Math.min(toSeq, set.lastSeq());
        long end = offsetBytes + expected.length;
        ByteBuffer buf = ByteBuffer.allocate(expected.length);
        for (long seq = from; seq <= to; seq++) {
            if (!lineage.contains(seq)) {
                continue;
            }
            JournalRecord r = set.journalRecord(seq);
            if (!r.type().isNumbered() || r.memberIndex() != memberIndex || r.endBytes() <= offsetBytes || r.offsetBytes() >= end) {
                continue;
            }
            buf.clear();
            set.readAt(seq, memberIndex, offsetBytes, buf);
            if (Arrays.equals(buf.array(), expected)) {
                return Match.found(seq);
            }
        }
        if (fromSeq < horizon) {
            return Match.none("seqs before " + horizon + " are older than the every-write history, where single writes are gone");
        }
        return Match.none("no write in seqs " + from + ".." + to + " put those bytes there");
    }
}
