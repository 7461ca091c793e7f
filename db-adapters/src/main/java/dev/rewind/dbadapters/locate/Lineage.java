package dev.rewind.dbadapters.locate;

import dev.rewind.volumeset.catalog.RestoreRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The seqs that make up a set's current state. A restore in place to seq T whose own writes
 * are seqs F..L brings the set back to T: the seqs T+1..L (what was undone and the restore's
 * own writes) are not part of what the volumes hold afterwards, so samples and writes there
 * must not be used to place a database position. Restores are walked newest first from the
 * head; a restore that a later one undid is skipped.
 */
public final class Lineage {
    /** Seqs {@code firstSeq..lastSeq}, both included. */
    public record SeqRange(long firstSeq, long lastSeq) {
        public boolean contains(long seq) {
            return seq >= firstSeq && seq <= lastSeq;
        }
    }

    private final List<SeqRange> ranges;

    private Lineage(List<SeqRange> ranges) {
        this.ranges = List.copyOf(ranges);
    }

    /**
     * The lineage of a set whose newest seq is {@code headSeq}, from its restores in place
     * ({@code Catalog.listRestores}, any order).
     */
    public static Lineage of(List<RestoreRecord> restores, long headSeq) {
        List<RestoreRecord> newestFirst = new ArrayList<>(restores);
        newestFirst.sort((a, b) -> Long.compare(b.firstSeq(), a.firstSeq()));
        List<SeqRange> out = new ArrayList<>();
        long upper = headSeq;
        for (RestoreRecord r : newestFirst) {
            if (r.firstSeq() > upper) {
                continue; // undone by a later restore
            }
            long excludedTo = Math.min(upper, Math.max(r.lastSeq(), r.firstSeq() - 1));
            if (excludedTo < upper) {
                out.add(new SeqRange(excludedTo + 1, upper));
            }
            upper = Math.min(upper, r.targetSeq());
        }
        if (upper >= 1) {
            out.add(new SeqRange(1, upper));
        }
        Collections.reverse(out);
        return new Lineage(out);
    }

    /** The ranges, oldest first, not overlapping. */
    public List<SeqRange> ranges() {
        return ranges;
    }

    public boolean contains(long seq) {
        for (SeqRange r : ranges) {
            if (r.contains(seq)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The first seq of the range that holds {@code seq}, or 0 when the seq is not part of the
     * set's current state. A sample taken at {@code seq} belongs to the lineage that started
     * there.
     */
    public long lineageSeqOf(long seq) {
        for (SeqRange r : ranges) {
            if (r.contains(seq)) {
                return r.firstSeq();
            }
        }
        return 0;
    }

    /**
     * Whether something recorded at {@code seq} on the lineage that started at
     * {@code lineageSeq} is still part of the set's current state: its seq is, and on that
     * same lineage (a restore in place since then did not undo it, and none recorded after
     * the fact began before it).
     */
    public boolean holds(long seq, long lineageSeq) {
        return lineageSeq > 0 && lineageSeqOf(seq) == lineageSeq;
    }

    /** The newest seq of the lineage, or 0 when it is empty. */
    public long headSeq() {
        return ranges.isEmpty() ? 0 : ranges.get(ranges.size() - 1).lastSeq();
    }
}
