package dev.rewind.dbadapters.mariadb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.volumeset.RewindException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BinlogPositionTest {

    @Test
    void coordinatesParseToFileOffsetAndOrder() {
        BinlogPosition p = BinlogPosition.parse(" mysql-bin.000003:1234 ");
        assertEquals("mysql-bin.000003", p.file());
        assertEquals(1234, p.offsetBytes());
        assertEquals(3L << 40 | 1234, p.order());
        assertEquals(new DatabasePosition("mysql-bin.000003:1234", 3L << 40 | 1234), p.toPosition());
    }

    @Test
    void ordersSortLikeTheLogAcrossFiles() {
        DatabasePosition endOfFirst = BinlogPosition.parse("mysql-bin.000001:999999999").toPosition();
        DatabasePosition startOfSecond = BinlogPosition.parse("mysql-bin.000002:4").toPosition();
        assertTrue(endOfFirst.compareTo(startOfSecond) < 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "mysql-bin.000003", "mysql-bin:12", "mysql-bin.000003:", "mysql-bin.000003:-1", "0/3A0000F8",
            "../x.000001:4", "mysql-bin.000003:12x"})
    void badTextIsRefusedWithTheExpectedForm(String text) {
        RewindException e = assertThrows(RewindException.class, () -> BinlogPosition.parse(text));
        assertTrue(e.getMessage().contains("FILE:POS") && e.getMessage().contains("GTID"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
