package dev.rewind.dbadapters.mariadb;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Event boundaries of a binlog file laid out by hand: events of 252, 60 and 31 bytes after the magic, and half an event. */
class BinlogEventsTest {
    @TempDir
    Path tmp;

    private Path binlog(int... eventBytes) throws IOException {
        int total = 4;
        for (int n : eventBytes) {
            total += n;
        }
        ByteBuffer b = ByteBuffer.allocate(total + 19).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0xfe, 0x62, 0x69, 0x6e});
        for (int n : eventBytes) {
            int start = b.position();
            b.putInt(start + 0, 1_700_000_000).put(start + 4, (byte) 2).putInt(start + 5, 1).putInt(start + 9, n).putInt(start + 13, start + n);
            b.position(start + n);
        }
        b.putInt(b.position() + 9, 500); // an event still being written: its header says more than is there
        Path f = tmp.resolve("mysql-bin.000004");
        Files.write(f, b.array());
        return f;
    }

    @Test
    void boundariesAreEventStartsAndWhereTheNextEventWillStart() throws IOException {
        assertEquals(List.of(4L, 256L, 316L, 347L), BinlogEvents.boundaries(binlog(252, 60, 31)));
    }

    @Test
    void anOffsetInsideAnEventIsRefusedNamingTheBoundariesAroundIt() throws IOException {
        Path f = binlog(252, 60, 31);
        RewindException inside = assertThrows(RewindException.class, () -> BinlogEvents.requireBoundary(BinlogPosition.parse("mysql-bin.000004:5"), f));
        assertEquals("mysql-bin.000004:5 is not where a binlog event starts; the nearest event boundaries are mysql-bin.000004:4 and "
                + "mysql-bin.000004:256 (SHOW BINLOG EVENTS IN 'mysql-bin.000004' lists them)", inside.getMessage());
        RewindException magic = assertThrows(RewindException.class, () -> BinlogEvents.requireBoundary(BinlogPosition.parse("mysql-bin.000004:0"), f));
        assertEquals("mysql-bin.000004:0 is not where a binlog event starts; the nearest event boundaries are none (events start at "
                + "mysql-bin.000004:4) and mysql-bin.000004:4 (SHOW BINLOG EVENTS IN 'mysql-bin.000004' lists them)", magic.getMessage());
        RewindException past = assertThrows(RewindException.class, () -> BinlogEvents.requireBoundary(BinlogPosition.parse("mysql-bin.000004:350"), f));
        assertEquals("mysql-bin.000004:350 is not where a binlog event starts; the nearest event boundaries are mysql-bin.000004:347 and "
                + "none (the file ends at mysql-bin.000004:347) (SHOW BINLOG EVENTS IN 'mysql-bin.000004' lists them)", past.getMessage());
        for (long ok : new long[] {4, 256, 316, 347}) {
            assertDoesNotThrow(() -> BinlogEvents.requireBoundary(BinlogPosition.parse("mysql-bin.000004:" + ok), f));
        }
    }
}
