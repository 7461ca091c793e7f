package dev.rewind.increments.journal;

import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Where each numbered record of a journal is and what it says, by seq: one {@link Part} per
 * segment, oldest first, each naming its segment and that segment's entries (mapped from its
 * {@link SegmentIndexFile} when sealed, in the heap while active). A seq is found by its
 * segment's first seq (stable when older segments are deleted), then by its place in that
 * segment's entries. Readers take no lock: the parts array is replaced, never changed, and
 * an entry never changes once counted. One writer at a time (the journal's lock).
 */
final class JournalIndex {
    /** Scans a sealed segment whose index file turned out bad, and returns its entries. */
    interface Rebuilder {
        SegmentEntries rebuild(JournalSegment segment, String problem) throws IOException;
    }

    /** One segment and its entries. */
    static final class Part {
        private final JournalSegment segment;
        private final Rebuilder rebuilder;
        private volatile SegmentEntries entries;

        Part(JournalSegment segment, SegmentEntries entries, Rebuilder rebuilder) {
            this.segment = segment;
            this.entries = entries;
            this.rebuilder = rebuilder;
        }

        JournalSegment segment() {
            return segment;
        }

        long firstSeq() {
            return segment.firstSeq();
        }

        /** The entries, their index file checked before the first use (and rebuilt by a scan if bad). */
        SegmentEntries entries() {
            SegmentEntries e = entries;
            if (e instanceof SegmentIndexFile f && !f.entriesAreIntact()) {
                return rebuild(f);
            }
            return e;
        }

        private synchronized SegmentEntries rebuild(SegmentIndexFile bad) {
            if (entries != bad) {
                return entries;
            }
            try {
                SegmentEntries rebuilt = rebuilder.rebuild(segment, bad.entriesProblem());
                if (rebuilt.count() != bad.count()) {
                    throw new CorruptDataException(segment.path(), JournalSegment.SEGMENT_HEADER_BYTES, "segment holds "
                            + rebuilt.count() + " records, its index file and the next segment's first seq say " + bad.count());
                }
                entries = rebuilt;
                return rebuilt;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * The entries as loaded, not yet checked: only their count, which an index file's header
         * vouches for, may be used without {@link #entries()}.
         */
        SegmentEntries uncheckedEntries() {
            return entries;
        }

        /** The newest seq of this segment, or {@code firstSeq() - 1} if it holds none. */
        long lastSeq() {
            return segment.firstSeq() + entries.count() - 1;
        }

        void replaceEntries(SegmentEntries sealed) {
            entries = sealed;
        }
    }

    private volatile Part[] parts;

    JournalIndex(Part[] parts) {
        if (parts.length == 0) {
            throw new IllegalArgumentException("a journal has at least one segment");
        }
        this.parts = parts;
    }

    Part[] parts() {
        return parts;
    }

    /** The part of the segment being appended to. */
    Part active() {
        Part[] ps = parts;
        return ps[ps.length - 1];
    }

    long firstSeq() {
        return parts[0].firstSeq();
    }

    /** The newest indexed seq, or {@code firstSeq() - 1} when empty. */
    long lastSeq() {
        return active().lastSeq();
    }

    /** Indexes the next seq, which the active segment holds at {@code position}. */
    void add(long seq, RecordType type, int flags, int member, long offsetBytes, int lengthBytes, long timeMicros, long position) {
        Part active = active();
        if (seq != active.lastSeq() + 1) {
            throw new IllegalStateException("seq " + seq + " out of order, expected " + (active.lastSeq() + 1));
        }
        ((ActiveSegmentIndex) active.entries).add(type, flags, member, offsetBytes, lengthBytes, timeMicros, position);
    }

    /** Adds a new, empty active segment after the current one (which the caller has sealed). */
    void addActive(JournalSegment segment, Rebuilder rebuilder) {
        Part[] ps = parts;
        Part[] grown = Arrays.copyOf(ps, ps.length + 1);
        grown[ps.length] = new Part(segment, new ActiveSegmentIndex(), rebuilder);
        parts = grown;
    }

    /** Forgets the {@code n} oldest segments. */
    void dropOldest(int n) {
        Part[] ps = parts;
        if (n >= ps.length) {
            throw new IllegalArgumentException("the active segment is never dropped");
        }
        parts = Arrays.copyOfRange(ps, n, ps.length);
    }

    /** The part holding {@code seq}. */
    Part partOf(long seq) {
        Part[] ps = parts;
        Part last = ps[ps.length - 1];
        if (seq >= last.firstSeq()) {
            if (seq <= last.lastSeq()) {
                return last;
            }
            throw notInJournal(seq, ps);
        }
        int lo = 0;
        int hi = ps.length - 2;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (ps[mid].firstSeq() <= seq) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Part p = ps[lo];
        if (seq < p.firstSeq() || seq > p.lastSeq()) {
            throw notInJournal(seq, ps);
        }
        return p;
    }

    private static IllegalArgumentException notInJournal(long seq, Part[] ps) {
        return new IllegalArgumentException("seq " + seq + " is not in the journal (" + ps[0].firstSeq() + ".."
                + ps[ps.length - 1].lastSeq() + ")");
    }

    private static int slot(Part p, long seq) {
        return (int) (seq - p.firstSeq());
    }

    int member(long seq) {
        Part p = partOf(seq);
        return p.entries().member(slot(p, seq));
    }

    long offset(long seq) {
        Part p = partOf(seq);
        return p.entries().offset(slot(p, seq));
    }

    int length(long seq) {
        Part p = partOf(seq);
        return p.entries().length(slot(p, seq));
    }

    long time(long seq) {
        Part p = partOf(seq);
        return p.entries().time(slot(p, seq));
    }

    RecordType type(long seq) {
        Part p = partOf(seq);
        return p.entries().type(slot(p, seq));
    }

    JournalRecord record(long seq) {
        Part p = partOf(seq);
        SegmentEntries e = p.entries();
        int i = slot(p, seq);
        return new JournalRecord(seq, e.type(i), e.flags(i), e.member(i), e.offset(i), e.length(i), e.time(i));
    }

    /** The newest seq whose time is at or before {@code timeMicros}, or {@code firstSeq() - 1}. Times never go back. */
    long lastSeqAtOrBefore(long timeMicros) {
        long lo = firstSeq();
        long hi = lastSeq();
        long found = lo - 1;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            if (time(mid) <= timeMicros) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }
}
