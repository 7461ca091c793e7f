package dev.rewind.increments.deltamap;

import dev.rewind.volumeset.ByteRangeSet;

/**
 * The blocks of each member that changed between two points: every byte written,
 * trimmed or zeroed by seqs {@code fromSeq+1 .. toSeq} (built by the set's history from its
 * journal and its increments' indexes).
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
