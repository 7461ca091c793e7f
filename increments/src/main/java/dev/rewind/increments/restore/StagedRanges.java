package dev.rewind.increments.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a restore will write, read and checked before anything is written: pieces sorted
 * by member and offset, adjacent pieces of data merged, so the primary sees few, ordered writes.
 */
public final class StagedRanges implements RangeSink {
    /** Where staged pieces go: one call per (merged) piece, data null for zeros. */
    @FunctionalInterface
    public interface Writer {
        void accept(int member, long offset, int length, ByteBuffer data) throws IOException;
    }

    private record Piece(int member, long offset, int length, byte[] data) {
    }

    /** Adjacent pieces are merged into writes of at most this many bytes. */
    private static final int MAX_RUN_BYTES = 1 << 20;

    private final List<Piece> pieces = new ArrayList<>();

    @Override
    public void accept(int member, long offset, int length, ByteBuffer data) {
        byte[] copy = null;
        if (data != null) {
            copy = new byte[length];
            data.duplicate().get(copy);
        }
        pieces.add(new Piece(member, offset, length, copy));
    }

    void applyInOrder(Writer writer) throws IOException {
        ByteBuffer run = null;
        pieces.sort(Comparator.comparingInt(Piece::member).thenComparingLong(Piece::offset));
        int i = 0;
        while (i < pieces.size()) {
            Piece p = pieces.get(i);
            int j = i + 1;
            long end = p.offset() + p.length();
            long bytes = p.length();
            while (j < pieces.size() && pieces.get(j).member() == p.member() && pieces.get(j).offset() == end
                    && (pieces.get(j).data() == null) == (p.data() == null) && bytes + pieces.get(j).length() <= MAX_RUN_BYTES) {
                end += pieces.get(j).length();
                bytes += pieces.get(j).length();
                j++;
            }
            ByteBuffer data = null;
            if (p.data() != null && bytes > MAX_RUN_BYTES) {
                data = ByteBuffer.wrap(p.data()); // one piece larger than a run: merged with nothing
            } else if (p.data() != null) {
                if (run == null) {
                    run = ByteBuffer.allocateDirect(MAX_RUN_BYTES); // one for all runs: the writer is done with it when it returns
                }
                data = run.clear();
                for (int k = i; k < j; k++) {
                    data.put(pieces.get(k).data());
                }
                data.flip();
            }
            writer.accept(p.member(), p.offset(), (int) bytes, data);
            i = j;
        }
    }
}
