package dev.rewind.dbadapters.mariadb;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where the events of a binlog file start, read from their headers alone:
 *
 * <pre>
 *   0        4-byte magic FE 62 69 6E ("\xfebin")
 *   4        event, event, ... each starting with a 19-byte header:
 *              +0 timestamp (4)  +4 type (1)  +5 server id (4)
 *              +9 event size in bytes, header included (4, little endian)
 *             +13 end position (4)  +17 flags (2)
 * </pre>
 *
 * Each event starts where the one before ends; the file's end is where the next one will.
 * A binlog position names one of those boundaries, never a byte inside an event.
 */
final class BinlogEvents {
    static final int MAGIC_BYTES = 4;
    static final int HEADER_BYTES = 19;
    static final int HEADER_EVENT_SIZE_OFFSET = 9;
    private static final int MAGIC = 0xfe62696e;

    private BinlogEvents() {
    }

    /** The offsets where the events of {@code file} start, and its end, ascending. */
    static List<Long> boundaries(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer magic = ByteBuffer.allocate(MAGIC_BYTES);
            readFully(ch, magic, 0);
            if (magic.position() < MAGIC_BYTES || magic.getInt(0) != MAGIC) {
                throw new RewindException(file + " is not a binlog file (no binlog magic at its start)");
            }
            List<Long> out = new ArrayList<>();
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long at = MAGIC_BYTES;
            while (at + HEADER_BYTES <= size) {
                header.clear();
                readFully(ch, header, at);
                long eventBytes = Integer.toUnsignedLong(header.getInt(HEADER_EVENT_SIZE_OFFSET));
                if (eventBytes < HEADER_BYTES || at + eventBytes > size) {
                    break; // an event still being written: the file ends at its start
                }
                out.add(at);
                at += eventBytes;
            }
            out.add(at);
            return out;
        }
    }

    /**
     * Refuses an offset of {@code file} that is not an event boundary, naming the nearest
     * boundaries before and after it.
     */
    static void requireBoundary(BinlogPosition p, Path file) throws IOException {
        List<Long> bounds = boundaries(file);
        int i = Collections.binarySearch(bounds, p.offsetBytes());
        if (i >= 0) {
            return;
        }
        int after = -i - 1;
        String before = after == 0 ? "none (events start at " + p.file() + ":" + MAGIC_BYTES + ")" : p.file() + ":" + bounds.get(after - 1);
        String next = after < bounds.size() ? p.file() + ":" + bounds.get(after) : "none (the file ends at " + p.file() + ":"
                + bounds.get(bounds.size() - 1) + ")";
        throw new RewindException(p + " is not where a binlog event starts; the nearest event boundaries are " + before + " and " + next
                + " (SHOW BINLOG EVENTS IN '" + p.file() + "' lists them)");
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, at + buf.position()) < 0) {
                return;
            }
        }
    }
}
