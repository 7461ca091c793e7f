package dev.rewind.capture;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One member of a captured set, as a block device: every write, trim and write-zeroes is
 * numbered and journaled before it reaches the primary. A write is durable after the next
 * {@link #flush()} or at once with {@code fua}, as on a disk.
 */
public interface BlockDevice {
    String name();

    long sizeBytes();

    /** Fills {@code dst} from {@code offsetBytes}. */
    void read(long offsetBytes, ByteBuffer dst) throws IOException;

    /** Writes all of {@code src} at {@code offsetBytes}; returns the seq of the (last) record. */
    long write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException;

    /** Discards a range; it reads as zeros afterwards. */
    long trim(long offsetBytes, long lengthBytes, boolean fua) throws IOException;

    /** Sets a range to zeros. */
    long writeZeroes(long offsetBytes, long lengthBytes, boolean fua) throws IOException;

    /** Makes every write acknowledged so far durable. */
    void flush() throws IOException;
}
