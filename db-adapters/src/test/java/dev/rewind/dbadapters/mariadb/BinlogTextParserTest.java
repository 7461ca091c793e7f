package dev.rewind.dbadapters.mariadb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Output of mariadb-binlog 10.11 (--base64-output=decode-rows, TZ=UTC), cut down to the event kinds that matter. */
class BinlogTextParserTest {
    private static final String OUTPUT = """
            /*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/;
            DELIMITER /*!*/;
            # at 4
            #261126  5:11:19 server id 1  end_log_pos 256 CRC32 0x818bcac3 \tStart: binlog v 4, server v 10.11.19-MariaDB-0+deb12u1-log created 261126  5:11:19 at startup
            ROLLBACK/*!*/;
            # at 256
            #261126  5:11:19 server id 1  end_log_pos 285 CRC32 0xe89f93a9 \tGtid list []
            # at 812
            #261126  5:11:25 server id 1  end_log_pos 854 CRC32 0x1d95b9cd \tGTID 0-1-4 ddl
            /*M!100001 SET @@session.gtid_seq_no=4*//*!*/;
            # at 854
            #261126  5:11:25 server id 1  end_log_pos 957 CRC32 0xf085adb4 \tQuery\tthread_id=5\texec_time=0\terror_code=0\txid=8
            use `shop`/*!*/;
            SET TIMESTAMP=1795669885/*!*/;
            SET @@session.pseudo_thread_id=4/*!*/;
            /*!\\C utf8mb3 *//*!*/;
            create table orders(id int primary key,
              v varchar(20)) engine=innodb
            /*!*/;
            # at 957
            #261126  5:11:25 server id 1  end_log_pos 999 CRC32 0x5813a000 \tGTID 0-1-5 trans
            /*M!100001 SET @@session.gtid_seq_no=5*//*!*/;
            START TRANSACTION
            /*!*/;
            # at 999
            # at 1068
            #261126  5:11:25 server id 1  end_log_pos 1068 CRC32 0x46ee4f36 \tAnnotate_rows:
            #Q> delete from shop.orders
            #Q>   where id > 1
            #261126  5:11:25 server id 1  end_log_pos 1120 CRC32 0x84bc5d58 \tTable_map: `shop`.`orders` mapped to number 18
            # at 1120
            #261126  5:11:25 server id 1  end_log_pos 1167 CRC32 0x7921b583 \tDelete_rows: table id 18 flags: STMT_END_F
            # at 1167
            #261126  5:11:25 server id 1  end_log_pos 1198 CRC32 0x65161389 \tXid = 9
            COMMIT/*!*/;
            # at 1198
            #261126  5:11:25 server id 1  end_log_pos 1240 CRC32 0x5dba0148 \tGTID 0-1-6 ddl
            /*M!100001 SET @@session.gtid_seq_no=6*//*!*/;
            # at 1240
            #261126  5:11:25 server id 1  end_log_pos 1329 CRC32 0x00eeeaf1 \tQuery\tthread_id=5\texec_time=0\terror_code=0\txid=0
            SET TIMESTAMP=1795669885/*!*/;
            truncate table shop.orders
            /*!*/;
            # at 1329
            #261126  5:11:30 server id 1  end_log_pos 1371 CRC32 0x0e3f75ec \tGTID 0-1-7 ddl
            /*M!100001 SET @@session.gtid_seq_no=7*//*!*/;
            # at 1371
            #261126  5:11:30 server id 1  end_log_pos 1501 CRC32 0x8b3da847 \tQuery\tthread_id=7\texec_time=0\terror_code=0\txid=23
            SET TIMESTAMP=1795669890.087363/*!*/;
            alter table shop.t2 add column b int default 1
            /*!*/;
            # at 1501
            #261126  5:11:30 server id 1  end_log_pos 1543 CRC32 0x962776f0 \tGTID 0-1-8
            # at 1543
            #261126  5:11:30 server id 1  end_log_pos 1600 CRC32 0x962776f1 \tQuery\tthread_id=7\texec_time=0\terror_code=0
            SET TIMESTAMP=1795669890/*!*/;
            BEGIN
            /*!*/;
            DELIMITER ;
            # End of log file
            ROLLBACK /* added by mysqlbinlog */;
            """;

    @Test
    void statementsComeWithTheirEventStartGtidAndTime() {
        List<BinlogStatement> found = BinlogTextParser.parse("mysql-bin.000001", OUTPUT);
        assertEquals(4, found.size(), found.toString());

        BinlogStatement create = found.get(0);
        assertEquals(new BinlogPosition("mysql-bin.000001", 854), create.position());
        assertEquals("0-1-4", create.gtid());
        assertEquals("create table orders(id int primary key,\n  v varchar(20)) engine=innodb", create.text());
        assertEquals(Instant.ofEpochSecond(1795669885), create.time());
        assertFalse(create.exactTime());

        BinlogStatement delete = found.get(1);
        assertEquals(new BinlogPosition("mysql-bin.000001", 999), delete.position(), "the Annotate_rows event's own offset");
        assertEquals("0-1-5", delete.gtid());
        assertEquals("delete from shop.orders\n  where id > 1", delete.text());
        assertEquals(Instant.parse("2026-11-26T05:11:25Z"), delete.time(), "the event header's time, read as UTC");

        BinlogStatement truncate = found.get(2);
        assertEquals(new BinlogPosition("mysql-bin.000001", 1240), truncate.position());
        assertEquals("0-1-6", truncate.gtid());
        assertEquals("truncate table shop.orders", truncate.text());

        BinlogStatement alter = found.get(3);
        assertEquals(Instant.ofEpochSecond(1795669890, 87_363_000), alter.time());
        assertTrue(alter.exactTime());
        assertEquals("0-1-7", alter.gtid());
    }

    @Test
    void aWholeSecondTimeCountsAsAnyInstantOfThatSecond() {
        BinlogStatement s = new BinlogStatement(new BinlogPosition("b.000001", 4), Instant.ofEpochSecond(100), false, null, "x");
        assertTrue(s.mayStartAtOrAfter(Instant.ofEpochSecond(100, 999_000_000)));
        assertFalse(s.mayStartAtOrAfter(Instant.ofEpochSecond(101)));
        BinlogStatement exact = new BinlogStatement(new BinlogPosition("b.000001", 4), Instant.ofEpochSecond(100, 5000), true, null, "x");
        assertFalse(exact.mayStartAtOrAfter(Instant.ofEpochSecond(100, 6000)));
        assertTrue(exact.startsBefore(Instant.ofEpochSecond(100, 6000)));
        assertFalse(exact.startsBefore(Instant.ofEpochSecond(100, 5000)));
    }
}
