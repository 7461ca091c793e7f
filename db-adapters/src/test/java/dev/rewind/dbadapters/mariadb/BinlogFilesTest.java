package dev.rewind.dbadapters.mariadb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The binlog read from its files, without the server: the index's file names, and the event
 * before a DDL statement found from the events' headers, as SHOW BINLOG EVENTS would give it.
 */
class BinlogFilesTest {
    private static final int QUERY = 2;
    private static final int XID = 16;
    private static final int WRITE_ROWS = 23;
    private static final int FORMAT_DESCRIPTION = 15;
    private static final int BINLOG_CHECKPOINT = 161;
    private static final int GTID_LIST = 163;

    @TempDir
    Path dir;

    @Test
    void theIndexListsFilesByRelativeOrAbsolutePath() {
        assertEquals(List.of("mysql-bin.000001", "mysql-bin.000002"),
                BinlogFiles.namesIn("./mysql-bin.000001\n/var/lib/mysql/binlog/mysql-bin.000002\n\n"));
    }

    @Test
    void aStandaloneStatementIsPrecededByTheLastEventBeforeItsGtidInItsFileOrTheFileBefore() throws IOException {
        BinlogFile first = new BinlogFile();
        first.event(FORMAT_DESCRIPTION, new byte[40]);
        first.gtid(true);
        first.event(QUERY, new byte[30]); // CREATE TABLE
        first.gtid(false);
        first.event(QUERY, new byte[10]); // BEGIN
        first.event(WRITE_ROWS, new byte[30]);
        long xid = first.event(XID, new byte[8]);
        first.gtid(true);
        long truncate = first.event(QUERY, new byte[25]);
        first.writeTo(dir.resolve("mysql-bin.000001"));

        BinlogFile second = new BinlogFile();
        second.event(FORMAT_DESCRIPTION, new byte[40]);
        second.event(GTID_LIST, new byte[12]);
        second.event(BINLOG_CHECKPOINT, new byte[20]);
        second.gtid(true);
        long drop = second.event(QUERY, new byte[25]);
        second.writeTo(dir.resolve("mysql-bin.000002"));

        BinlogFiles files = new BinlogFiles(dir, List.of("mysql-bin.000001", "mysql-bin.000002"));
        assertEquals(new BinlogPosition("mysql-bin.000001", xid),
                files.lastEventBeforeStandaloneStatement(new BinlogPosition("mysql-bin.000001", truncate)));
        assertNull(files.lastEventBeforeStandaloneStatement(new BinlogPosition("mysql-bin.000001", xid)), "inside a transaction");
        assertEquals(new BinlogPosition("mysql-bin.000001", truncate),
                files.lastEventBeforeStandaloneStatement(new BinlogPosition("mysql-bin.000002", drop)), "framing events do not count");
        assertNull(files.lastEventBeforeStandaloneStatement(new BinlogPosition("mysql-bin.000009", 4)), "a file the index does not list");
    }

    @Test
    void aGtidEndsAtItsXidItsCommitOrItsStandaloneStatementInTheNewestFileThatHoldsIt() throws IOException {
        BinlogFile first = new BinlogFile();
        first.event(FORMAT_DESCRIPTION, new byte[40]);
        first.gtid(true, 7, 0);
        long create = first.query("CREATE TABLE t (id INT)");
        first.gtid(false, 8, 0);
        first.query("BEGIN");
        first.event(WRITE_ROWS, new byte[30]);
        long xid = first.event(XID, new byte[8]);
        first.gtid(false, 9, 0);
        first.query("BEGIN");
        first.query("INSERT INTO myisam_t VALUES (1)");
        long commit = first.query("COMMIT");
        first.gtid(false, 10, 0);
        first.query("BEGIN");
        first.event(WRITE_ROWS, new byte[30]); // still being written
        first.writeTo(dir.resolve("mysql-bin.000001"));
        BinlogFile second = new BinlogFile();
        second.event(FORMAT_DESCRIPTION, new byte[40]);
        second.gtid(true, 9, 2); // another domain's sequence number 9
        long drop = second.query("DROP TABLE t");
        second.writeTo(dir.resolve("mysql-bin.000002"));

        BinlogFiles files = new BinlogFiles(dir, List.of("mysql-bin.000001", "mysql-bin.000002"));
        assertEquals(new BinlogPosition("mysql-bin.000001", create), files.endOfTransaction("0-1-7"), "a DDL is its Query event");
        assertEquals(new BinlogPosition("mysql-bin.000001", xid), files.endOfTransaction("0-1-8"), "a transaction ends at its Xid");
        assertEquals(new BinlogPosition("mysql-bin.000001", commit), files.endOfTransaction("0-1-9"), "or at its COMMIT, not at BEGIN");
        assertEquals(new BinlogPosition("mysql-bin.000002", drop), files.endOfTransaction("2-1-9"), "domain and sequence both count");
        var unfinished = org.junit.jupiter.api.Assertions.assertThrows(dev.rewind.volumeset.RewindException.class,
                () -> files.endOfTransaction("0-1-10"));
        org.junit.jupiter.api.Assertions.assertTrue(unfinished.getMessage().contains("has no end"), unfinished.getMessage());
        var unknown = org.junit.jupiter.api.Assertions.assertThrows(dev.rewind.volumeset.RewindException.class,
                () -> files.endOfTransaction("0-2-8"));
        org.junit.jupiter.api.Assertions.assertTrue(unknown.getMessage().startsWith("GTID 0-2-8 is not in the binlog files mysql-bin.000001 to "
                + "mysql-bin.000002"), unknown.getMessage());
    }

    /** A binlog file built event by event: magic, then 19-byte headers (type at +4, size at +9) and bodies. */
    private static final class BinlogFile {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        BinlogFile() {
            bytes.writeBytes(new byte[] {(byte) 0xfe, 0x62, 0x69, 0x6e});
        }

        long event(int type, byte[] body) {
            long at = bytes.size();
            ByteBuffer header = ByteBuffer.allocate(BinlogEvents.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(0, 1_700_000_000);
            header.put(BinlogEvents.HEADER_TYPE_OFFSET, (byte) type);
            header.putInt(5, 1);
            header.putInt(BinlogEvents.HEADER_EVENT_SIZE_OFFSET, BinlogEvents.HEADER_BYTES + body.length);
            header.putInt(13, (int) (at + BinlogEvents.HEADER_BYTES + body.length));
            bytes.writeBytes(header.array());
            bytes.writeBytes(body);
            return at;
        }

        /** MariaDB's GTID event: sequence number, domain, flags2 (bit 0: standalone). */
        long gtid(boolean standalone) {
            return gtid(standalone, 0, 0);
        }

        /** A GTID event of {@code domain-1-sequence} (the header's server id is 1). */
        long gtid(boolean standalone, long sequence, int domain) {
            ByteBuffer body = ByteBuffer.allocate(19).order(ByteOrder.LITTLE_ENDIAN);
            body.putLong(0, sequence).putInt(8, domain);
            body.put(BinlogEvents.GTID_FLAGS2_OFFSET - BinlogEvents.HEADER_BYTES, (byte) (standalone ? BinlogEvents.GTID_FLAG_STANDALONE : 0));
            return event(BinlogEvents.MARIADB_GTID_EVENT, body.array());
        }

        /** A Query event of {@code statement} in schema "shop", with 3 bytes of status variables and a checksum after it. */
        long query(String statement) {
            byte[] text = statement.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ByteBuffer body = ByteBuffer.allocate(13 + 3 + 5 + text.length + 4).order(ByteOrder.LITTLE_ENDIAN);
            body.putInt(7).putInt(0).put((byte) 4).putShort((short) 0).putShort((short) 3).put(new byte[3]);
            body.put("shop".getBytes(java.nio.charset.StandardCharsets.UTF_8)).put((byte) 0).put(text).putInt(0x12345678);
            return event(QUERY, body.array());
        }

        void writeTo(Path file) throws IOException {
            Files.write(file, bytes.toByteArray());
        }
    }
}
