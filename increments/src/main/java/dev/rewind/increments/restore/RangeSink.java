package dev.rewind.increments.restore;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Receives the bytes a member held at a point in time, one disjoint piece at a time. */
@FunctionalInterface
public interface RangeSink {
    /**
     * {@code data} holds exactly the piece's bytes (position to limit), or is null when
     * the piece was all zeros (trimmed or zeroed) at that point.
     */
    void accept(int memberIndex, long offsetBytes, int lengthBytes, ByteBuffer data) throws IOException;
}
