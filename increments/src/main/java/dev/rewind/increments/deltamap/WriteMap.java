package dev.rewind.increments.deltamap;

import dev.rewind.increments.journal.Journal;
import dev.rewind.volumeset.ByteRangeSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which record last wrote each byte of a span of the journal, seqs {@code afterSeq+1 ..
 * upToSeq}: per member, disjoint extents each naming the newest record in the span that wrote
 * it. Built by one newest-first pass over the journal's index; no data is read. Bytes no
 * record of the span wrote are not in the map.
 */
public final class WriteMap {
    /** Member bytes {@code [startBytes, endBytes)} were last written in the span by {@code seq}. */
    public record Extent(long startBytes, long endBytes, long seq) {
        public long lengthBytes() {
            return endBytes - startBytes;
        }
    }

    private final List<TreeMap<Long, Extent>> extentsByMember;

    private WriteMap(List<TreeMap<Long, Extent>> extentsByMember) {
        this.extentsByMember = extentsByMember;
    }

    public static WriteMap of(Journal journal, long afterSeq, long upToSeq, int memberCount) {
        List<TreeMap<Long, Extent>> maps = new ArrayList<>();
        ByteRangeSet[] covered = new ByteRangeSet[memberCount];
        for (int m = 0; m < memberCount; m++) {
            maps.add(new TreeMap<>());
            covered[m] = new ByteRangeSet();
        }
        for (long s = upToSeq; s > afterSeq && s >= journal.firstSeq(); s--) {
            int member = journal.memberOf(s);
            long start = journal.offsetOf(s);
            long end = start + journal.lengthOf(s);
            long cursor = start;
            for (ByteRangeSet.Range taken : covered[member].intersection(start, end)) {
                if (taken.startBytes() > cursor) {
                    maps.get(member).put(cursor, new Extent(cursor, taken.startBytes(), s));
                }
                cursor = taken.endBytes();
            }
            if (cursor < end) {
                maps.get(member).put(cursor, new Extent(cursor, end, s));
            }
            covered[member].add(start, end);
        }
        return new WriteMap(maps);
    }

    public int memberCount() {
        return extentsByMember.size();
    }

    /** The member's extents in ascending offset order. */
    public Iterable<Extent> extents(int member) {
        return extentsByMember.get(member).values();
    }

    /** The extent holding {@code offsetBytes}, or the first one after it, or null. */
    public Extent extentAtOrAfter(int member, long offsetBytes) {
        TreeMap<Long, Extent> extents = extentsByMember.get(member);
        Map.Entry<Long, Extent> e = extents.floorEntry(offsetBytes);
        if (e != null && e.getValue().endBytes() > offsetBytes) {
            return e.getValue();
        }
        e = extents.higherEntry(offsetBytes);
        return e == null ? null : e.getValue();
    }

    public int extentCount() {
        int n = 0;
        for (TreeMap<Long, Extent> m : extentsByMember) {
            n += m.size();
        }
        return n;
    }

    /** The changed bytes as a delta map. */
    public DeltaMap toDeltaMap(long fromSeq, long toSeq) {
        DeltaMap d = new DeltaMap(fromSeq, toSeq, extentsByMember.size());
        for (int m = 0; m < extentsByMember.size(); m++) {
            for (Extent e : extentsByMember.get(m).values()) {
                d.add(m, e.startBytes(), e.endBytes());
            }
        }
        return d;
    }
}
