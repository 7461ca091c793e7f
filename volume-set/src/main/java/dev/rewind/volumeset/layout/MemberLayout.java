package dev.rewind.volumeset.layout;

import java.util.List;

/**
 * Where each byte of a set member lives: an ordered list of runs, each a stretch of
 * the member mapped onto one PV. A linear LV has one run per extent segment; a whole
 * PV member has one run.
 */
public record MemberLayout(int index, String name, long sizeBytes, List<Run> runs) {

    /** Member bytes {@code [memberOffsetBytes, +lengthBytes)} live on PV {@code pvName} at {@code pvOffsetBytes}. */
    public record Run(long memberOffsetBytes, long lengthBytes, String pvName, long pvOffsetBytes) {
    }

    public MemberLayout {
        runs = List.copyOf(runs);
        long expected = 0;
        for (Run r : runs) {
            if (r.memberOffsetBytes() != expected) {
                throw new IllegalArgumentException("member " + name + ": runs are not contiguous at " + expected);
            }
            expected += r.lengthBytes();
        }
        if (expected < sizeBytes) {
            throw new IllegalArgumentException("member " + name + ": runs cover " + expected + " of " + sizeBytes + " bytes");
        }
    }

    /** The index of the run holding member byte {@code offsetBytes}. */
    public int runIndexAt(long offsetBytes) {
        int lo = 0;
        int hi = runs.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (runs.get(mid).memberOffsetBytes() <= offsetBytes) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
