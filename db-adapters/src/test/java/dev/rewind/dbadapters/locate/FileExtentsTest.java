package dev.rewind.dbadapters.locate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.RewindException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Reading filefrag's {@code -v -b1} output (the real tool is exercised by {@link FileExtentsIT}). */
class FileExtentsTest {
    private static final Path FILE = Path.of("/mnt/wal/000000010000000000000003");

    @Test
    void extentsAreReadInBytesAndMapOffsetsOntoTheDevice() {
        FileExtents x = FileExtents.parse(FILE, """
                Filesystem type is: ef53
                File size of /mnt/wal/000000010000000000000003 is 16777216 (16777216 blocks of 1 bytes)
                 ext:     logical_offset:        physical_offset: length:   expected: flags:
                   0:        0..  8388607:   35651584..  44040191: 8388608:
                   1:  8388608.. 16777215:   52428800..  60817407: 8388608:   44040192: last,eof
                /mnt/wal/000000010000000000000003: 2 extents found
                """);
        assertEquals(2, x.extents().size());
        assertEquals(35651584 + 1000, x.physicalOffset(1000, 512));
        assertEquals(52428800 + 5, x.physicalOffset(8388608 + 5, 8192));
        assertTrue(x.extents().get(1).flags().contains("eof"));
    }

    @Test
    void unplacedAndMissingRangesAreRefusedWithTheAdviceToSync() {
        FileExtents x = FileExtents.parse(FILE, """
                 ext:     logical_offset:        physical_offset: length:   expected: flags:
                   0:        0..     4095:          0..         0:      0:             last,unknown_loc,delalloc,eof
                """);
        RewindException e = assertThrows(RewindException.class, () -> x.physicalOffset(10, 100));
        assertTrue(e.getMessage().contains("sync"), e.getMessage());
        RewindException hole = assertThrows(RewindException.class, () -> x.physicalOffset(5000, 100));
        assertTrue(hole.getMessage().contains("sync"), hole.getMessage());
    }

    @Test
    void aRangeAcrossTwoExtentsIsRefused() {
        FileExtents x = FileExtents.parse(FILE, """
                   0:        0..     4095:     8192..     12287:   4096:
                   1:     4096..     8191:   100000..    104095:   4096:      12288: last,eof
                """);
        assertThrows(RewindException.class, () -> x.physicalOffset(4000, 200));
    }
}
