package dev.rewind.dbadapters.postgresql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.NavigableMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalSegmentsTest {
    private static final long SIXTEEN_MIB = 16L << 20;

    @Test
    void namesAndNumbersAgree() {
        assertEquals("000000010000000000000001", WalSegments.fileName(1, 1, SIXTEEN_MIB));
        assertEquals("0000000200000001000000FF", WalSegments.fileName(2, 0x1FF, SIXTEEN_MIB));
        assertEquals(0x1FF, WalSegments.segmentNumber("0000000200000001000000FF", SIXTEEN_MIB));
        assertEquals(2, WalSegments.timelineOf("0000000200000001000000FF"));
        // the last segment of one 4 GiB range is followed by the first of the next
        assertEquals("000000010000000200000000", WalSegments.fileName(1, WalSegments.segmentNumber("0000000100000001000000FF", SIXTEEN_MIB) + 1,
                SIXTEEN_MIB));
        assertEquals("000000010000000000000003", WalSegments.fileName(1, 3, 1L << 30 >> 6));
    }

    @Test
    void aSegmentStartsAtItsNumberTimesItsSize() {
        assertEquals(Lsn.parse("1/FF000000"), WalSegments.startOf("0000000100000001000000FF", SIXTEEN_MIB));
        assertEquals(Lsn.parse("0/1000000"), WalSegments.startOf("000000010000000000000001", SIXTEEN_MIB));
    }

    @Test
    void onlySegmentNamesAreSegments() {
        assertTrue(WalSegments.isSegmentName("000000010000000000000001"));
        assertFalse(WalSegments.isSegmentName("00000002.history"));
        assertFalse(WalSegments.isSegmentName("000000010000000000000001.partial"));
        assertFalse(WalSegments.isSegmentName("archive_status"));
    }

    @Test
    void pgWalAndTheArchiveMergeByNameEachOnceWithPgWalsCopyAndOnlyOfTheTimeline(@TempDir Path dir) throws IOException {
        Path pgWal = Files.createDirectories(dir.resolve("pg_wal"));
        Path archive = Files.createDirectories(dir.resolve("archive"));
        for (String name : List.of("000000010000000000000004", "000000010000000000000005", "00000002000000000000000A")) {
            Files.writeString(pgWal.resolve(name), "");
        }
        for (String name : List.of("000000010000000000000001", "000000010000000000000002", "000000010000000000000004",
                "000000010000000000000003.partial", "00000002.history")) {
            Files.writeString(archive.resolve(name), "");
        }
        NavigableMap<String, Path> merged = WalSegments.segmentsOf(pgWal, archive, 1);
        assertEquals(List.of("000000010000000000000001", "000000010000000000000002", "000000010000000000000004",
                "000000010000000000000005"), List.copyOf(merged.keySet()));
        assertEquals(pgWal.resolve("000000010000000000000004"), merged.get("000000010000000000000004"), "pg_wal's copy");
        assertEquals(archive.resolve("000000010000000000000001"), merged.get("000000010000000000000001"));
    }

    @Test
    void aMissingSegmentEndsARunAcrossTheFourGibibyteRanges() {
        assertEquals(List.of(List.of("000000010000000000000001", "000000010000000000000002"), List.of("000000010000000000000004"),
                List.of("0000000100000001000000FF", "000000010000000200000000")),
                WalSegments.consecutiveRuns(List.of("000000010000000000000001", "000000010000000000000002", "000000010000000000000004",
                        "0000000100000001000000FF", "000000010000000200000000"), SIXTEEN_MIB));
        assertEquals(List.of(), WalSegments.consecutiveRuns(List.of(), SIXTEEN_MIB));
    }
}
