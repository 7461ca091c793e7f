package dev.rewind.increments.deltamap;

import dev.rewind.increments.journal.Journal;
import dev.rewind.volumeset.ByteRangeSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Where the bytes of each member come from: disjoint extents, each naming its source. Sources
 * claim ranges newest first, and a claim takes only the bytes no earlier claim holds, so every
 * byte names the newest source that wrote it. {@link #of} claims a span of the journal
 * (sources are seqs); a reader of the past claims further sources after it (see the restore
 * package's point-in-time map). Built from indexes only; no data is read.
 */
public final class WriteMap {
    /** Member bytes {@code [startBytes, endBytes)} come from {@code source} (a journal seq when positive). */
    public record Extent(long startBytes, long endBytes, long source) {
        public long lengthBytes() {
            return endBytes - startBytes;
        }
    }

    private final List<TreeMap<Long, Extent>> extentsByMember = new ArrayList<>();
    private final ByteRangeSet[] covered;

    public WriteMap(int memberCount) {
        covered = new ByteRangeSet[memberCount];
        for (int m = 0; m < memberCount; m++) {
            extentsByMember.add(new TreeMap<>());
            covered[m] = new ByteRangeSet();
        }
    }

    /** Which record last wrote each byte of seqs {@code afterSeq+1 .. upToSeq}; bytes none wrote are not in the map. */
    public static WriteMap of(Journal journal, long afterSeq, long upToSeq, int memberCount) {
        WriteMap map = new WriteMap(memberCount);
        map.claimJournal(journal, afterSeq, upToSeq);
        return map;
    }

    /** Claims, newest first, the bytes the journal's records {@code afterSeq+1 .. upToSeq} wrote, each for its seq. */
    public void claimJournal(Journal journal, long afterSeq, long upToSeq) {
        for (long s = upToSeq; s > afterSeq && s >= journal.firstSeq(); s--) {
            long start = journal.offsetOf(s);
            claim(journal.memberOf(s), start, start + journal.lengthOf(s), s);
        }
    }

    /** Gives member bytes {@code [start, end)} to {@code source}, except those an earlier claim holds. */
    public void claim(int member, long start, long end, long source) {
        long cursor = start;
        for (ByteRangeSet.Range taken : covered[member].intersection(start, end)) {
            if (taken.startBytes() > cursor) {
                extentsByMember.get(member).put(cursor, new Extent(cursor, taken.startBytes(), source));
            }
            cursor = taken.endBytes();
        }
        if (cursor < end) {
            extentsByMember.get(member).put(cursor, new Extent(cursor, end, source));
        }
        covered[member].add(start, end);
    }

    public int memberCount() {
        return extentsByMember.size();
    }

    /** The member's extents by start offset, ascending. */
    public NavigableMap<Long, Extent> extents(int member) {
        return Collections.unmodifiableNavigableMap(extentsByMember.get(member));
    }

    /** Bytes claimed, over every member. */
    public long totalBytes() {
        long total = 0;
        for (ByteRangeSet c : covered) {
            total += c.totalBytes();
        }
        return total;
    }
}
