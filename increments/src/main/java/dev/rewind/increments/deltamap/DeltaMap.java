package dev.rewind.increments.deltamap;

import dev.rewind.increments.journal.Journal;
import dev.rewind.volumeset.ByteRangeSet;

/**
 * The blocks of each member that changed between two points: every byte written,
 * trimmed or zeroed by seqs {@code fromSeq+1 .. toSeq}.
 */
public final class DeltaMap {
    private final long fromSeq;
    private final long toSeq;
    private final ByteRangeSet[] changed;

    public DeltaMap(long fromSeq, long toSeq, int memberCount) {
        this.fromSeq = fromSeq;
        this.toSeq = toSeq;
        this.changed = new ByteRangeSet[memberCount];
        for (int i = 0; i < memberCount; i++) {
            changed[i] = new ByteRangeSet();
        }
    }

    /** The changes the journal records after {@code fromSeq} up to and including {@code toSeq}. */
    public static DeltaMap between(Journal journal, long fromSeq, long toSeq, int memberCount) {
        DeltaMap map = new DeltaMap(fromSeq, toSeq, memberCount);
        for (long seq = Math.max(fromSeq + 1, journal.firstSeq()); seq <= toSeq; seq++) {
            long offset = journal.offsetOf(seq);
            map.changed[journal.memberOf(seq)].add(offset, offset + journal.lengthOf(seq));
        }
        return map;
    }

    /** A copy whose ranges can be consumed (by a reconstruction) without touching these. */
    public DeltaMap copy() {
        DeltaMap copy = new DeltaMap(fromSeq, toSeq, changed.length);
        for (int i = 0; i < changed.length; i++) {
            copy.changed[i].addAll(changed[i]);
        }
        return copy;
    }

    public long fromSeq() {
        return fromSeq;
    }

    public long toSeq() {
        return toSeq;
    }

    public int memberCount() {
        return changed.length;
    }

    public ByteRangeSet changed(int member) {
        return changed[member];
    }

    public void add(int member, long startBytes, long endBytes) {
        changed[member].add(startBytes, endBytes);
    }

    public boolean isEmpty() {
        for (ByteRangeSet s : changed) {
            if (!s.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    public long totalBytes() {
        long total = 0;
        for (ByteRangeSet s : changed) {
            total += s.totalBytes();
        }
        return total;
    }
}
