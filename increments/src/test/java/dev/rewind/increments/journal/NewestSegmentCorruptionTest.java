package dev.rewind.increments.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** In the newest segment, a bad record is a torn tail unless later flush marks prove it had been forced. */
class NewestSegmentCorruptionTest {
    private static final UUID SET = UUID.fromString("5e7a0000-0000-4000-8000-000000000002");
    private static final int RECORD = JournalSegment.RECORD_HEADER_BYTES + 100;

    @TempDir
    Path dir;

    private Journal open() throws IOException {
        return Journal.open(dir, SET, 1, 64L << 20, Clock.systemUTC());
    }

    /** Seq 1..3, each flushed on its own: segment = header, then per seq a record and a flush mark. */
    private Path writeFlushedRecords() throws IOException {
        try (Journal j = open()) {
            for (int i = 0; i < 3; i++) {
                j.append(RecordType.WRITE, 0, 0, i * 100L, 100, ByteBuffer.wrap(new byte[100]));
                j.flush();
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".rwj")).findFirst().orElseThrow();
        }
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            c.read(b, position);
            b.put(0, (byte) (b.get(0) ^ 0x5a)).position(0);
            c.write(b, position);
        }
    }

    @Test
    void aFlushedRecordCorruptedInTheNewestSegmentIsRefusedNotTruncated() throws IOException {
        Path segment = writeFlushedRecords();
        long sizeBefore = Files.size(segment);
        flipByte(segment, JournalSegment.SEGMENT_HEADER_BYTES + JournalSegment.RECORD_HEADER_BYTES + 10);
        CorruptDataException e = assertThrows(CorruptDataException.class, this::open);
        assertTrue(e.getMessage().contains("corruption, not a torn tail"), e.getMessage());
        assertEquals(JournalSegment.SEGMENT_HEADER_BYTES, e.offsetBytes());
        assertEquals(sizeBefore, Files.size(segment), "nothing was truncated");
    }

    @Test
    void aBadLastRecordWithoutLaterFlushesIsATornTail() throws IOException {
        Path segment = writeFlushedRecords();
        long lastRecord = Files.size(segment) - JournalSegment.RECORD_HEADER_BYTES - RECORD;
        flipByte(segment, lastRecord + JournalSegment.RECORD_HEADER_BYTES + 10);
        try (Journal j = open()) {
            assertEquals(2, j.lastSeq(), "the torn last write is dropped, the earlier ones stay");
        }
    }
}
