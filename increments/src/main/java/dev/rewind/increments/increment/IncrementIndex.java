package dev.rewind.increments.increment;

import dev.rewind.volumeset.CorruptDataException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/**
 * The index at the end of an increment file: its extents, where each one's bytes start in the
 * increment's stream, and its chunk table. Encodes itself for the writer, and decodes and
 * checks itself for the reader (the layout is drawn in {@link IncrementFile}). Kept as
 * parallel arrays, so that a million extents cost tens of megabytes, not objects, and a
 * lookup is a binary search.
 */
final class IncrementIndex {
    static final int MAGIC = 0x52574E58; // "RWNX"
    static final int HEADER_BYTES = 32;
    static final int EXTENT_ENTRY_BYTES = 32;
    static final int CHUNK_ENTRY_BYTES = 32;
    static final int EXTENT_ZEROS = 1;
    static final int CHUNK_STORED_RAW = 1;

    final int extentCount;
    final int[] members;
    final long[] offsets;
    final long[] lengths;
    final long[] streamPositions;
    final boolean[] zeros;
    final int chunkCount;
    final long[] chunkFileOffsets;
    final int[] storedLengths;
    final int[] rawLengths;
    final byte[] chunkFlags;
    final int[] storedCrcs;
    final int[] rawCrcs;
    final long streamBytes;

    private IncrementIndex(Builder b) {
        extentCount = b.extentCount;
        members = Arrays.copyOf(b.members, extentCount);
        offsets = Arrays.copyOf(b.offsets, extentCount);
        lengths = Arrays.copyOf(b.lengths, extentCount);
        streamPositions = Arrays.copyOf(b.streamPositions, extentCount);
        zeros = Arrays.copyOf(b.zeros, extentCount);
        chunkCount = b.chunkCount;
        chunkFileOffsets = Arrays.copyOf(b.chunkFileOffsets, chunkCount);
        storedLengths = Arrays.copyOf(b.storedLengths, chunkCount);
        rawLengths = Arrays.copyOf(b.rawLengths, chunkCount);
        chunkFlags = Arrays.copyOf(b.chunkFlags, chunkCount);
        storedCrcs = Arrays.copyOf(b.storedCrcs, chunkCount);
        rawCrcs = Arrays.copyOf(b.rawCrcs, chunkCount);
        streamBytes = b.streamBytes;
    }

    /** The encoded size of an index with these counts. */
    static long encodedBytes(long extentCount, long chunkCount) {
        return HEADER_BYTES + extentCount * EXTENT_ENTRY_BYTES + chunkCount * CHUNK_ENTRY_BYTES;
    }

    /** The index of the extent that holds byte {@code offsetBytes} of {@code member}, or -1. */
    int find(int member, long offsetBytes) {
        int lo = 0;
        int hi = extentCount - 1;
        int floor = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (members[mid] < member || (members[mid] == member && offsets[mid] <= offsetBytes)) {
                floor = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (floor >= 0 && members[floor] == member && offsetBytes < offsets[floor] + lengths[floor]) {
            return floor;
        }
        return -1;
    }

    List<IncrementExtent> extents() {
        return new ExtentList();
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(encodedBytes(extentCount, chunkCount))).order(ByteOrder.BIG_ENDIAN);
        b.putInt(MAGIC).putInt(extentCount).putInt(chunkCount).putInt(0).putLong(streamBytes).putLong(0);
        for (int i = 0; i < extentCount; i++) {
            b.putInt(members[i]).putInt(zeros[i] ? EXTENT_ZEROS : 0).putLong(offsets[i]).putLong(lengths[i]).putLong(streamPositions[i]);
        }
        for (int i = 0; i < chunkCount; i++) {
            b.putLong(chunkFileOffsets[i]).putInt(storedLengths[i]).putInt(rawLengths[i])
                    .put(chunkFlags[i]).put((byte) 0).putShort((short) 0)
                    .putInt(storedCrcs[i]).putInt(rawCrcs[i]).putInt(0);
        }
        return b.flip();
    }

    /**
     * Decodes an index whose CRC has been checked, and checks that it describes a well-formed
     * increment: extents ascending and apart, inside the set's members, their stream positions
     * back to back; chunks of the fixed raw size back to back from {@code firstChunkOffset} up
     * to {@code indexOffset}. Any violation is corruption at the entry's file offset.
     */
    static IncrementIndex decode(Path file, long indexOffset, ByteBuffer b, int memberCount, long firstChunkOffset) {
        b.order(ByteOrder.BIG_ENDIAN);
        if (b.remaining() < HEADER_BYTES || b.getInt(0) != MAGIC) {
            throw new CorruptDataException(file, indexOffset, "no increment index here (bad magic)");
        }
        int extentCount = b.getInt(4);
        int chunkCount = b.getInt(8);
        long streamBytes = b.getLong(16);
        if (extentCount < 0 || chunkCount < 0 || encodedBytes(extentCount, chunkCount) != b.remaining()
                || streamBytes < 0 || chunkCount != chunksFor(streamBytes)) {
            throw new CorruptDataException(file, indexOffset, "index of " + b.remaining() + " bytes cannot hold " + extentCount + " extents and "
                    + chunkCount + " chunks of a " + streamBytes + "-byte stream");
        }
        Builder r = new Builder(extentCount, chunkCount);
        int at = HEADER_BYTES;
        long stream = 0;
        for (int i = 0; i < extentCount; i++, at += EXTENT_ENTRY_BYTES) {
            int member = b.getInt(at);
            int flags = b.getInt(at + 4);
            long offset = b.getLong(at + 8);
            long length = b.getLong(at + 16);
            long position = b.getLong(at + 24);
            boolean isZeros = flags == EXTENT_ZEROS;
            String problem = null;
            if (member < 0 || member >= memberCount) {
                problem = "member " + member + " of a set of " + memberCount;
            } else if ((flags & ~EXTENT_ZEROS) != 0 || offset < 0 || length <= 0 || offset + length < offset) {
                problem = "not a range: [" + offset + ", +" + length + ") flags " + flags;
            } else if (i > 0 && !r.isAfterLast(member, offset)) {
                problem = "out of order or overlapping the extent before it";
            } else if (position != stream) {
                problem = "stream position " + position + ", expected " + stream;
            }
            if (problem != null) {
                throw new CorruptDataException(file, indexOffset + at, "index extent " + i + ": " + problem);
            }
            r.appendExtent(member, offset, length, isZeros, position);
            stream += isZeros ? 0 : length;
        }
        if (stream != streamBytes) {
            throw new CorruptDataException(file, indexOffset, "extents hold " + stream + " bytes, the index says " + streamBytes);
        }
        r.streamBytes = streamBytes;
        long expectedOffset = firstChunkOffset;
        for (int i = 0; i < chunkCount; i++, at += CHUNK_ENTRY_BYTES) {
            long fileOffset = b.getLong(at);
            int stored = b.getInt(at + 8);
            int raw = b.getInt(at + 12);
            byte flags = b.get(at + 16);
            long expectedRaw = Math.min(IncrementFile.CHUNK_BYTES, streamBytes - (long) i * IncrementFile.CHUNK_BYTES);
            boolean isRaw = flags == CHUNK_STORED_RAW;
            if (fileOffset != expectedOffset || raw != expectedRaw || (flags & ~CHUNK_STORED_RAW) != 0
                    || (isRaw ? stored != raw : stored <= 0 || stored >= raw)) {
                throw new CorruptDataException(file, indexOffset + at, "index chunk " + i + " at " + fileOffset + " (expected " + expectedOffset
                        + "): " + stored + " bytes stored for " + raw + " (expected " + expectedRaw + "), flags " + flags);
            }
            r.appendChunk(fileOffset, stored, raw, flags, b.getInt(at + 20), b.getInt(at + 24));
            expectedOffset += IncrementFile.CHUNK_HEADER_BYTES + stored;
        }
        if (expectedOffset != indexOffset) {
            throw new CorruptDataException(file, indexOffset, "chunks end at " + expectedOffset + ", the index starts at " + indexOffset);
        }
        return r.build();
    }

    static int chunksFor(long streamBytes) {
        return Math.toIntExact((streamBytes + IncrementFile.CHUNK_BYTES - 1) / IncrementFile.CHUNK_BYTES);
    }

    /** Collects extents (in order, coalescing adjacent ones of the same kind) and chunks while an increment is written. */
    static final class Builder {
        private int extentCount;
        private int[] members;
        private long[] offsets;
        private long[] lengths;
        private long[] streamPositions;
        private boolean[] zeros;
        private int chunkCount;
        private long[] chunkFileOffsets;
        private int[] storedLengths;
        private int[] rawLengths;
        private byte[] chunkFlags;
        private int[] storedCrcs;
        private int[] rawCrcs;
        private long streamBytes;

        Builder(int extentCapacity, int chunkCapacity) {
            int e = Math.max(extentCapacity, 16);
            int c = Math.max(chunkCapacity, 4);
            members = new int[e];
            offsets = new long[e];
            lengths = new long[e];
            streamPositions = new long[e];
            zeros = new boolean[e];
            chunkFileOffsets = new long[c];
            storedLengths = new int[c];
            rawLengths = new int[c];
            chunkFlags = new byte[c];
            storedCrcs = new int[c];
            rawCrcs = new int[c];
        }

        /** Whether an extent starting at (member, offset) comes after the last one without overlapping it. */
        boolean isAfterLast(int member, long offset) {
            if (extentCount == 0) {
                return true;
            }
            int last = extentCount - 1;
            return member > members[last] || (member == members[last] && offset >= offsets[last] + lengths[last]);
        }

        /**
         * Adds an extent the writer was given, after the last one; one that starts where the last
         * ends and is of the same kind extends it. Refuses one out of order or overlapping.
         */
        void addExtent(int member, long offset, long length, boolean isZeros) {
            if (!isAfterLast(member, offset)) {
                int last = extentCount - 1;
                throw new IllegalArgumentException("extent member " + member + " [" + offset + ", +" + length + ") is out of order or overlaps member "
                        + members[last] + " [" + offsets[last] + ", " + (offsets[last] + lengths[last]) + "): add extents in ascending (member, offset) order, apart");
            }
            int last = extentCount - 1;
            if (last >= 0 && members[last] == member && zeros[last] == isZeros && offsets[last] + lengths[last] == offset) {
                lengths[last] += length;
            } else {
                appendExtent(member, offset, length, isZeros, streamBytes);
            }
            if (!isZeros) {
                streamBytes += length;
            }
        }

        void appendExtent(int member, long offset, long length, boolean isZeros, long position) {
            if (extentCount == members.length) {
                int n = members.length * 2;
                members = Arrays.copyOf(members, n);
                offsets = Arrays.copyOf(offsets, n);
                lengths = Arrays.copyOf(lengths, n);
                streamPositions = Arrays.copyOf(streamPositions, n);
                zeros = Arrays.copyOf(zeros, n);
            }
            members[extentCount] = member;
            offsets[extentCount] = offset;
            lengths[extentCount] = length;
            streamPositions[extentCount] = position;
            zeros[extentCount] = isZeros;
            extentCount++;
        }

        void appendChunk(long fileOffset, int stored, int raw, byte flags, int storedCrc, int rawCrc) {
            if (chunkCount == chunkFileOffsets.length) {
                int n = chunkCount * 2;
                chunkFileOffsets = Arrays.copyOf(chunkFileOffsets, n);
                storedLengths = Arrays.copyOf(storedLengths, n);
                rawLengths = Arrays.copyOf(rawLengths, n);
                chunkFlags = Arrays.copyOf(chunkFlags, n);
                storedCrcs = Arrays.copyOf(storedCrcs, n);
                rawCrcs = Arrays.copyOf(rawCrcs, n);
            }
            chunkFileOffsets[chunkCount] = fileOffset;
            storedLengths[chunkCount] = stored;
            rawLengths[chunkCount] = raw;
            chunkFlags[chunkCount] = flags;
            storedCrcs[chunkCount] = storedCrc;
            rawCrcs[chunkCount] = rawCrc;
            chunkCount++;
        }

        int chunkCount() {
            return chunkCount;
        }

        int extentCount() {
            return extentCount;
        }

        IncrementIndex build() {
            return new IncrementIndex(this);
        }
    }

    /** The extents as records, made on access. */
    private final class ExtentList extends AbstractList<IncrementExtent> implements RandomAccess {
        @Override
        public IncrementExtent get(int i) {
            if (i < 0 || i >= extentCount) {
                throw new IndexOutOfBoundsException(i);
            }
            return new IncrementExtent(members[i], offsets[i], lengths[i], zeros[i]);
        }

        @Override
        public int size() {
            return extentCount;
        }
    }
}
