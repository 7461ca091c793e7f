package dev.rewind.dbadapters.postgresql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.api.LogFiles;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a data dir's WAL without its server: where the WAL is, what pg_controldata says, where the valid records end. */
class WalFilesTest {
    private static final long SEGMENT = 16L << 20;
    private static final int PAGE = 8192;

    @TempDir
    Path dir;

    @Test
    void aRecordEndsRoundedUpToEightBytes() {
        // pg_waldump: "lsn: 0/01516BE8 ... len (rec/tot): 114/ 114", then "invalid record length at 0/1516C60: wanted 24, got 0"
        assertEquals(Lsn.parse("0/1516C60"), WalDump.endOf(Lsn.parse("0/1516BE8"), 114, SEGMENT, PAGE));
        assertEquals(Lsn.parse("0/1516C00"), WalDump.endOf(Lsn.parse("0/1516BE8"), 24, SEGMENT, PAGE));
    }

    @Test
    void aRecordAcrossAPageSkipsTheNextPagesShortHeader() {
        // 32 bytes fill the page at 0/1001FE0, the next page starts with 24 header bytes, then the other 68
        assertEquals(Lsn.parse("0/1002060"), WalDump.endOf(Lsn.parse("0/1001FE0"), 100, SEGMENT, PAGE));
    }

    @Test
    void aRecordAcrossASegmentSkipsTheNextSegmentsLongHeader() {
        assertEquals(Lsn.parse("0/2000040"), WalDump.endOf(Lsn.parse("0/1FFFFF0"), 40, SEGMENT, PAGE));
    }

    @Test
    void controlDataGivesCheckpointTimelineSizesAndWalLevel() throws IOException {
        String text = """
                pg_control version number:            1300
                Latest checkpoint location:           0/1516BE8
                Latest checkpoint's REDO location:    0/1516BE8
                Latest checkpoint's TimeLineID:       3
                wal_level setting:                    logical
                WAL block size:                       8192
                Bytes per WAL segment:                16777216
                """;
        assertEquals(new ControlData(Lsn.parse("0/1516BE8"), 3, SEGMENT, PAGE, "logical"), ControlData.parse(text, dir));
        IOException e = assertThrows(IOException.class, () -> ControlData.parse(text.replace("Bytes per WAL segment", "Bytes"), dir));
        assertTrue(e.getMessage().contains("'Bytes per WAL segment'"), e.getMessage());
    }

    @Test
    void majorVersionComesFromPgVersion() {
        assertEquals(15, WalFiles.majorVersion("15\n", dir));
        assertEquals(9, WalFiles.majorVersion("9.6\n", dir));
        assertThrows(RewindException.class, () -> WalFiles.majorVersion("x", dir));
    }

    @Test
    void pgWalIsFollowedRelativelyOrToAProductionPathWhereItsMemberIsReadableNow() throws IOException {
        Path data = Files.createDirectories(dir.resolve("view/data/pgdata"));
        Path wal = Files.createDirectories(dir.resolve("view/wal/pg_wal"));
        LogFiles files = new LogFiles(Map.of("data", Path.of("/srv/data"), "wal", Path.of("/srv/wal")),
                Map.of("data", dir.resolve("view/data"), "wal", dir.resolve("view/wal")), Map.of(), "a view");

        Files.createSymbolicLink(data.resolve("pg_wal"), Path.of("/srv/wal/pg_wal"));
        assertEquals(wal, WalFiles.walDirectory(data, files), "an absolute link is a production path");

        Files.delete(data.resolve("pg_wal"));
        Files.createSymbolicLink(data.resolve("pg_wal"), Path.of("../../wal/pg_wal"));
        assertEquals(wal, WalFiles.walDirectory(data, files), "a relative link stays in the view");

        Files.delete(data.resolve("pg_wal"));
        Files.createDirectory(data.resolve("pg_wal"));
        assertEquals(data.resolve("pg_wal"), WalFiles.walDirectory(data, files));

        Files.delete(data.resolve("pg_wal"));
        Files.createSymbolicLink(data.resolve("pg_wal"), Path.of("/srv/elsewhere/pg_wal"));
        RewindException e = assertThrows(RewindException.class, () -> WalFiles.walDirectory(data, files));
        assertTrue(e.getMessage().contains("/srv/elsewhere/pg_wal") && e.getMessage().contains("a view"), e.getMessage());
    }
}
