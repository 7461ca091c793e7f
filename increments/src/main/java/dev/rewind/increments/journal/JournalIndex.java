package dev.rewind.increments.journal;

/**
 * In-memory index of a journal's numbered records: entry {@code i} is seq {@code firstSeq + i}.
 * Columns live in fixed-size chunks that are never moved, so readers see a stable entry
 * for every seq below {@link #lastSeq()} without taking a lock. One writer at a time.
 */
final class JournalIndex {
    private static final int CHUNK_SHIFT = 16;
    private static final int CHUNK = 1 << CHUNK_SHIFT;
    private static final int MASK = CHUNK - 1;

    private final long firstSeq;
    private volatile Chunk[] chunks = new Chunk[0];
    private volatile long count;

    private static final class Chunk {
        final long[] offset = new long[CHUNK];
        final long[] time = new long[CHUNK];
        final long[] location = new long[CHUNK];
        final int[] length = new int[CHUNK];
        final short[] member = new short[CHUNK];
        final byte[] type = new byte[CHUNK];
        final byte[] flags = new byte[CHUNK];
    }

    JournalIndex(long firstSeq) {
        this.firstSeq = firstSeq;
    }

    long firstSeq() {
        return firstSeq;
    }

    /** The newest indexed seq, or {@code firstSeq - 1} when empty. */
    long lastSeq() {
        return firstSeq + count - 1;
    }

    /** Packs a segment ordinal and a byte position into one long. */
    static long location(int segmentOrdinal, long position) {
        return ((long) segmentOrdinal << 40) | position;
    }

    static int segmentOf(long location) {
        return (int) (location >>> 40);
    }

    static long positionOf(long location) {
        return location & ((1L << 40) - 1);
    }

    void add(long seq, RecordType type, int flags, int member, long offsetBytes, int lengthBytes, long timeMicros, long location) {
        long i = count;
        if (seq != firstSeq + i) {
            throw new IllegalStateException("seq " + seq + " out of order, expected " + (firstSeq + i));
        }
        int c = (int) (i >>> CHUNK_SHIFT);
        Chunk[] cs = chunks;
        if (c == cs.length) {
            Chunk[] grown = java.util.Arrays.copyOf(cs, cs.length + 1);
            grown[c] = new Chunk();
            chunks = grown;
            cs = grown;
        }
        Chunk chunk = cs[c];
        int j = (int) (i & MASK);
        chunk.offset[j] = offsetBytes;
        chunk.time[j] = timeMicros;
        chunk.location[j] = location;
        chunk.length[j] = lengthBytes;
        chunk.member[j] = (short) member;
        chunk.type[j] = (byte) type.ordinal();
        chunk.flags[j] = (byte) flags;
        count = i + 1;
    }

    /** Forgets every seq after {@code seq}. */
    void truncateAfter(long seq) {
        count = Math.max(0, seq - firstSeq + 1);
    }

    private Chunk chunkOf(long seq) {
        long i = seq - firstSeq;
        if (i < 0 || i >= count) {
            throw new IllegalArgumentException("seq " + seq + " is not in the journal (" + firstSeq + ".." + lastSeq() + ")");
        }
        return chunks[(int) (i >>> CHUNK_SHIFT)];
    }

    private static int slot(long seq, long firstSeq) {
        return (int) ((seq - firstSeq) & MASK);
    }

    int member(long seq) {
        return chunkOf(seq).member[slot(seq, firstSeq)] & 0xffff;
    }

    long offset(long seq) {
        return chunkOf(seq).offset[slot(seq, firstSeq)];
    }

    int length(long seq) {
        return chunkOf(seq).length[slot(seq, firstSeq)];
    }

    long time(long seq) {
        return chunkOf(seq).time[slot(seq, firstSeq)];
    }

    long location(long seq) {
        return chunkOf(seq).location[slot(seq, firstSeq)];
    }

    RecordType type(long seq) {
        return RecordType.values()[chunkOf(seq).type[slot(seq, firstSeq)]];
    }

    JournalRecord record(long seq) {
        Chunk c = chunkOf(seq);
        int j = slot(seq, firstSeq);
        return new JournalRecord(seq, RecordType.values()[c.type[j]], c.flags[j], c.member[j] & 0xffff, c.offset[j], c.length[j], c.time[j]);
    }

    /** The newest seq whose time is at or before {@code timeMicros}, or {@code firstSeq - 1}. Times never go back. */
    long lastSeqAtOrBefore(long timeMicros) {
        long lo = firstSeq;
        long hi = lastSeq();
        long found = firstSeq - 1;
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
