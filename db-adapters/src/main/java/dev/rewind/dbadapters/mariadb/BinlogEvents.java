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
 * A binlog position names one of those boundaries, never a byte inside an event. MariaDB's
 * GTID event (type 162) says in its body whether its statement stands alone (a DDL, no
 * BEGIN): {@code +19 sequence number (8)  +27 domain id (4)  +31 flags2 (1)}, bit 0.
 */
final class BinlogEvents {
    static final int MAGIC_BYTES = 4;
    static final int HEADER_BYTES = 19;
    static final int HEADER_EVENT_SIZE_OFFSET = 9;
    static final int HEADER_TYPE_OFFSET = 4;
    static final int GTID_FLAGS2_OFFSET = HEADER_BYTES + 12;
    static final int GTID_FLAG_STANDALONE = 1;
    /** MariaDB's GTID event, and MySQL's (which never says BEGIN: its statement counts as standalone, as SHOW BINLOG EVENTS shows it). */
    static final int MARIADB_GTID_EVENT = 162;
    static final int MYSQL_GTID_EVENT = 33;
    /** Types that frame a file rather than carry a change: stop, rotate, format description, MySQL's previous GTIDs, checkpoint, GTID list, start encryption. */
    static final java.util.Set<Integer> FRAMING = java.util.Set.of(3, 4, 15, 35, 161, 163, 164);
    private static final int MAGIC = 0xfe62696e;

    /** An event of a file: where it starts, its type, and for a GTID event whether its statement stands alone. */
    record Event(long offsetBytes, int type, boolean standaloneGtid) {
        boolean isGtid() {
            return type == MARIADB_GTID_EVENT || type == MYSQL_GTID_EVENT;
        }
    }

    /** The whole events of {@code file}, in order. */
    static List<Event> events(Path file) throws IOException {
        List<Long> bounds = boundaries(file);
        List<Event> out = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(GTID_FLAGS2_OFFSET + 1).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i + 1 < bounds.size(); i++) {
                head.clear();
                readFully(ch, head, bounds.get(i));
                int type = Byte.toUnsignedInt(head.get(HEADER_TYPE_OFFSET));
                boolean standalone = type == MYSQL_GTID_EVENT
                        || type == MARIADB_GTID_EVENT && (head.get(GTID_FLAGS2_OFFSET) & GTID_FLAG_STANDALONE) != 0;
                out.add(new Event(bounds.get(i), type, standalone));
            }
        }
        return out;
    }

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
