package dev.rewind.capture.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What one NBD export offers: a captured set member (writable), or a member as it was at a
 * point in the past (read-only). The server calls these only with requests its decoder has
 * accepted: in range, within the block size limits, and never a write on a read-only export.
 *
 * <p>Failures: an {@link IOException} becomes {@code NBD_EIO}, an {@link IllegalArgumentException}
 * {@code NBD_EINVAL}; both go back to the client with the exception's message, and neither ends
 * the connection. Implementations are called from several threads at once.
 */
public interface NbdExport {
    /** The export name a client asked for, e.g. {@code shop/data} or {@code shop/data@42}. */
    String name();

    /** The set this export belongs to, for {@link NbdServer#disconnect(String)} and {@link NbdServer#connectionCount(String)}. */
    String setName();

    long sizeBytes();

    boolean isReadOnly();

    /**
     * Whether this export serves a point in the past rather than the set as it is now. A restore
     * in place changes only what the present shows: clients of past exports (a backup copying
     * {@code @bookmark:NAME}) neither hold it off nor are dropped by it.
     */
    default boolean isPast() {
        return false;
    }

    /** Fills {@code dst} (position to limit) with the bytes from {@code offsetBytes}. */
    void read(long offsetBytes, ByteBuffer dst) throws IOException;

    /** Writes all of {@code src} at {@code offsetBytes}; with {@code fua}, durable before returning. */
    void write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException;

    /** Discards a range; it reads as zeros afterwards. */
    void trim(long offsetBytes, long lengthBytes, boolean fua) throws IOException;

    /** Sets a range to zeros, fully provisioned. */
    void writeZeroes(long offsetBytes, long lengthBytes, boolean fua) throws IOException;

    /** Makes every write completed so far, through any connection, durable. */
    void flush() throws IOException;

    /** One line for a person (sent as NBD_INFO_DESCRIPTION when a client asks); empty for none. */
    default String description() {
        return "";
    }
}
