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
 * BEGIN): {@code +19 sequence number (8)  +27 domain id (4)  +31 flags2 (1)}, bit 0; its GTID is
 * {@code domain-server-sequence}, the server id from the header. A transaction ends at its Xid
 * event (type 16), its XA prepare event (type 38) or a Query event (type 2) whose statement is
 * COMMIT, ROLLBACK or XA ...; a standalone statement is its one Query event. A Query event's body:
 * {@code +19 thread id (4)  +23 time (4)  +27 schema length S (1)  +28 error (2)  +30 status
 * length V (2)  +32 status (V)  then the schema (S) and a 0 byte, then the statement}.
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

    static final int QUERY_EVENT = 2;
    static final int XID_EVENT = 16;
    static final int XA_PREPARE_EVENT = 38;
    private static final int QUERY_SCHEMA_LENGTH_OFFSET = HEADER_BYTES + 8;
    private static final int QUERY_STATUS_LENGTH_OFFSET = HEADER_BYTES + 11;
    private static final int QUERY_STATUS_OFFSET = HEADER_BYTES + 13;
    private static final int GTID_SERVER_ID_OFFSET = 5;
    private static final int GTID_SEQUENCE_OFFSET = HEADER_BYTES;
    private static final int GTID_DOMAIN_OFFSET = HEADER_BYTES + 8;

    /**
     * Where the transaction of {@code gtid} ({@code domain-server-sequence}) ends in {@code file}:
     * the start of the event that ends it, as {@code SHOW BINLOG EVENTS} gives it; null when the
     * file does not hold that GTID, a RewindException when it holds it but not its end.
     */
    static Long endOfTransaction(Path file, String gtid) throws IOException {
        String[] parts = gtid.split("-");
        long domain = Long.parseLong(parts[0]);
        long serverId = Long.parseLong(parts[1]);
        long sequence = Long.parseUnsignedLong(parts[2]);
        List<Long> bounds = boundaries(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            boolean inside = false;
            boolean standalone = false;
            for (int i = 0; i + 1 < bounds.size(); i++) {
                long at = bounds.get(i);
                int size = (int) (bounds.get(i + 1) - at);
                ByteBuffer head = ByteBuffer.allocate(Math.min(size, QUERY_STATUS_OFFSET)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, head, at);
                int type = Byte.toUnsignedInt(head.get(HEADER_TYPE_OFFSET));
                if (type == MARIADB_GTID_EVENT) {
                    if (inside) {
                        break; // the next transaction began before ours ended
                    }
                    inside = Integer.toUnsignedLong(head.getInt(GTID_DOMAIN_OFFSET)) == domain
                            && Integer.toUnsignedLong(head.getInt(GTID_SERVER_ID_OFFSET)) == serverId
                            && head.getLong(GTID_SEQUENCE_OFFSET) == sequence;
                    standalone = inside && (head.get(GTID_FLAGS2_OFFSET) & GTID_FLAG_STANDALONE) != 0;
                    continue;
                }
                if (!inside) {
                    continue;
                }
                boolean ends = standalone ? type == QUERY_EVENT
                        : type == XID_EVENT || type == XA_PREPARE_EVENT || type == QUERY_EVENT && endsTransaction(statementOf(ch, at, size));
                if (ends) {
                    return at;
                }
            }
            if (inside) {
                throw new RewindException("the transaction of GTID " + gtid + " has no end in " + file.getFileName()
                        + " (still being written?); give binlog coordinates FILE:POS instead");
            }
            return null;
        }
    }

    /** Whether a Query event's statement ends the transaction it is in: COMMIT, ROLLBACK, or XA END/COMMIT/PREPARE. */
    static boolean endsTransaction(String statement) {
        String upper = statement.stripLeading().toUpperCase(java.util.Locale.ROOT);
        return upper.startsWith("COMMIT") || upper.startsWith("ROLLBACK") || upper.startsWith("XA END") || upper.startsWith("XA COMMIT")
                || upper.startsWith("XA PREPARE");
    }

    /** The first bytes of a Query event's statement, as text (enough to tell COMMIT from the rest). */
    private static String statementOf(FileChannel ch, long at, int size) throws IOException {
        ByteBuffer body = ByteBuffer.allocate(Math.min(size, 64 << 10)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, body, at);
        if (body.position() < QUERY_STATUS_OFFSET) {
            return "";
        }
        int schemaLength = Byte.toUnsignedInt(body.get(QUERY_SCHEMA_LENGTH_OFFSET));
        int statusLength = Short.toUnsignedInt(body.getShort(QUERY_STATUS_LENGTH_OFFSET));
        int from = QUERY_STATUS_OFFSET + statusLength + schemaLength + 1;
        int to = Math.min(body.position(), from + 32);
        return from >= to ? "" : new String(body.array(), from, to - from, java.nio.charset.StandardCharsets.UTF_8);
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
