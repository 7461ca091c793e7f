package dev.rewind.increments.journal;

import java.util.Arrays;

/**
 * The heap index of the segment being appended to: columns in fixed-size chunks that are
 * never moved, so readers see a stable entry for every index below {@link #count()} without
 * taking a lock. One writer at a time (the journal's lock). When the segment is sealed its
 * entries are written to a {@link SegmentIndexFile} and this index is dropped.
 */
final class ActiveSegmentIndex implements SegmentEntries {
    private static final int CHUNK_SHIFT = 12;
    private static final int CHUNK = 1 << CHUNK_SHIFT;
    private static final int MASK = CHUNK - 1;
    private static final RecordType[] TYPES = RecordType.values();

    private volatile Chunk[] chunks = new Chunk[0];
    private volatile int count;

    private static final class Chunk {
        final long[] offset = new long[CHUNK];
        final long[] time = new long[CHUNK];
        final long[] position = new long[CHUNK];
        final int[] length = new int[CHUNK];
        final short[] member = new short[CHUNK];
        final byte[] type = new byte[CHUNK];
        final byte[] flags = new byte[CHUNK];
    }

    /** Appends the entry of the next seq of this segment. */
    void add(RecordType type, int flags, int member, long offsetBytes, int lengthBytes, long timeMicros, long position) {
        int i = count;
        if (i == Integer.MAX_VALUE) {
            throw new IllegalStateException("a journal segment holds at most " + Integer.MAX_VALUE + " records");
        }
        int c = i >>> CHUNK_SHIFT;
        Chunk[] cs = chunks;
        if (c == cs.length) {
            Chunk[] grown = Arrays.copyOf(cs, cs.length + 1);
            grown[c] = new Chunk();
            chunks = grown;
            cs = grown;
        }
        Chunk chunk = cs[c];
        int j = i & MASK;
        chunk.offset[j] = offsetBytes;
        chunk.time[j] = timeMicros;
        chunk.position[j] = position;
        chunk.length[j] = lengthBytes;
        chunk.member[j] = (short) member;
        chunk.type[j] = (byte) type.ordinal();
        chunk.flags[j] = (byte) flags;
        count = i + 1;
    }

    @Override
    public int count() {
        return count;
    }

    private Chunk chunk(int i) {
        return chunks[i >>> CHUNK_SHIFT];
    }

    @Override
    public int member(int i) {
        return chunk(i).member[i & MASK] & 0xffff;
    }

    @Override
    public long offset(int i) {
        return chunk(i).offset[i & MASK];
    }

    @Override
    public int length(int i) {
        return chunk(i).length[i & MASK];
    }

    @Override
    public long time(int i) {
        return chunk(i).time[i & MASK];
    }

    @Override
    public RecordType type(int i) {
        return TYPES[chunk(i).type[i & MASK]];
    }

    @Override
    public int flags(int i) {
        return chunk(i).flags[i & MASK] & 0xff;
    }

    @Override
    public long position(int i) {
        return chunk(i).position[i & MASK];
    }
}
