package dev.rewind.increments.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicaImageTest {
    private static final int CHUNK = ReplicaImage.CHUNK_BYTES;

    @TempDir
    Path dir;

    @Test
    void aReplicaReadsBackEqualToItsSource() throws IOException {
        byte[] source = sourceWithHoles(10 * CHUNK + 1000, 1);
        AtomicLong progress = new AtomicLong();
        try (ReplicaImage replica = ReplicaImage.create(dir, "data", source.length, from(source), progress::addAndGet)) {
            assertEquals(source.length, replica.sizeBytes());
            assertEquals(source.length, progress.get(), "progress covers every byte");
            assertArrayEquals(source, readAll(replica));
            Random random = new Random(2);
            for (int i = 0; i < 200; i++) {
                int offset = random.nextInt(source.length);
                int length = random.nextInt(Math.min(3 * CHUNK, source.length - offset) + 1);
                ByteBuffer dst = ByteBuffer.allocate(length);
                replica.read(offset, dst);
                assertArrayEquals(java.util.Arrays.copyOfRange(source, offset, offset + length), dst.array(),
                        "read at " + offset + " of " + length);
            }
        }
        assertEquals(source.length, Files.size(dir.resolve("data.img")));
        try (ReplicaImage reopened = ReplicaImage.open(dir, "data", source.length)) {
            assertArrayEquals(source, readAll(reopened));
        }
    }

    @Test
    void aFlippedByteInTheImageIsDetectedOnRead() throws IOException {
        byte[] source = sourceWithHoles(8 * CHUNK, 3);
        ReplicaImage.create(dir, "data", source.length, from(source), ProgressListener.NONE).close();
        int victimChunk = firstNonZeroChunk(source);
        long victim = (long) victimChunk * CHUNK + 1234;
        flip(dir.resolve("data.img"), victim);

        try (ReplicaImage replica = ReplicaImage.open(dir, "data", source.length)) {
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> replica.read(victim, ByteBuffer.allocate(1)));
            assertEquals(dir.resolve("data.img"), e.file());
            assertEquals((long) victimChunk * CHUNK, e.offsetBytes(), "names the chunk");
            assertTrue(e.getMessage().contains("CRC32C expected"), e.getMessage());
            assertThrows(CorruptDataException.class, () -> replica.read(victim - CHUNK + 100, ByteBuffer.allocate(CHUNK)),
                    "any read touching the chunk is refused");
            assertThrows(CorruptDataException.class, () -> readAll(replica));
            for (int c = 0; c < source.length / CHUNK; c++) {
                if (c != victimChunk) {
                    ByteBuffer dst = ByteBuffer.allocate(CHUNK);
                    replica.read((long) c * CHUNK, dst);
                    assertArrayEquals(java.util.Arrays.copyOfRange(source, c * CHUNK, (c + 1) * CHUNK), dst.array(), "chunk " + c);
                }
            }
        }
    }

    @Test
    void aChunkDamagedAfterAReadCheckedItIsFoundByVerifyAndByReadsOnceTheCheckLapses() throws IOException {
        byte[] source = sourceWithHoles(8 * CHUNK, 5);
        ReplicaImage.create(dir, "data", source.length, from(source), ProgressListener.NONE).close();
        int victimChunk = firstNonZeroChunk(source);
        long chunkStart = (long) victimChunk * CHUNK;
        try (ReplicaImage replica = ReplicaImage.open(dir, "data", source.length)) {
            replica.read(chunkStart, ByteBuffer.allocate(4096)); // checks the whole chunk once
            flip(dir.resolve("data.img"), chunkStart + CHUNK - 10);
            assertThrows(CorruptDataException.class, replica::verify, "verify checks every chunk, whatever reads checked lately");
            replica.forgetAllChecked(); // as when ReplicaImage.RECHECK_NANOS has passed
            assertThrows(CorruptDataException.class, () -> replica.read(chunkStart + CHUNK - 4096, ByteBuffer.allocate(4096)));
        }
    }

    @Test
    void aChunkRewrittenByApplyIsCheckedAgainOnItsNextRead() throws IOException {
        byte[] source = sourceWithHoles(4 * CHUNK, 6);
        ReplicaImage.create(dir, "data", source.length, from(source), ProgressListener.NONE).close();
        int victimChunk = firstNonZeroChunk(source);
        long chunkStart = (long) victimChunk * CHUNK;
        try (ReplicaImage replica = ReplicaImage.open(dir, "data", source.length)) {
            replica.read(chunkStart, ByteBuffer.allocate(4096));
            ByteBuffer patch = ByteBuffer.wrap(new byte[] {1, 2, 3});
            replica.apply(1, sink -> sink.accept(chunkStart + 100, 3, patch));
            flip(dir.resolve("data.img"), chunkStart + 5000);
            assertThrows(CorruptDataException.class, () -> replica.read(chunkStart + 4096, ByteBuffer.allocate(4096)),
                    "the chunk apply wrote is no longer taken as checked");
        }
    }

    @Test
    void dataAppearingInAHoleIsNeverServedAndVerifyFindsIt() throws IOException {
        byte[] source = new byte[4 * CHUNK];
        ReplicaImage.create(dir, "data", source.length, from(source), ProgressListener.NONE).close();
        flip(dir.resolve("data.img"), 2L * CHUNK + 7);
        try (ReplicaImage replica = ReplicaImage.open(dir, "data", source.length)) {
            ByteBuffer got = ByteBuffer.allocate(CHUNK);
            replica.read(2L * CHUNK, got);
            assertArrayEquals(new byte[CHUNK], got.array(), "a zero chunk reads as the zeros its checksum says, whatever the file holds");
            CorruptDataException e = assertThrows(CorruptDataException.class, replica::verify);
            assertEquals(2L * CHUNK, e.offsetBytes());
        }
    }

    @Test
    void aTruncatedImageIsDetectedOnRead() throws IOException {
        byte[] source = sourceWithHoles(6 * CHUNK, 4);
        source[source.length - 1] = 1; // the last chunk has data
        ReplicaImage.create(dir, "data", source.length, from(source), ProgressListener.NONE).close();
        try (FileChannel c = FileChannel.open(dir.resolve("data.img"), StandardOpenOption.WRITE)) {
            c.truncate(5L * CHUNK + 100);
        }
        try (ReplicaImage replica = ReplicaImage.open(dir, "data", source.length)) {
            assertThrows(CorruptDataException.class, () -> replica.read(5L * CHUNK, ByteBuffer.allocate(CHUNK)));
        }
    }

    @Test
    void aDamagedChecksumTableIsRefusedAtOpen() throws IOException {
        byte[] source = sourceWithHoles(3 * CHUNK, 5);
        ReplicaImage.create(dir, "data", source.length, from(source), ProgressListener.NONE).close();
        Path table = dir.resolve("data.crc");
        flip(table, 25); // reserved, under the header CRC
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> ReplicaImage.open(dir, "data", source.length));
        assertEquals(table, e.file());
        assertTrue(e.getMessage().contains("CRC32C expected"), e.getMessage());

        flip(table, 25);
        ReplicaImage.open(dir, "data", source.length).close();
        CorruptDataException wrongSize = assertThrows(CorruptDataException.class,
                () -> ReplicaImage.open(dir, "data", source.length + CHUNK));
        assertTrue(wrongSize.getMessage().contains("expected " + (source.length + CHUNK)), wrongSize.getMessage());

        Files.delete(table);
        assertThrows(CorruptDataException.class, () -> ReplicaImage.open(dir, "data", source.length));
    }

    // ---- helpers ----

    /** Random bytes with every third chunk left zero. */
    private static byte[] sourceWithHoles(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        for (int c = 0; c * CHUNK < size; c += 3) {
            java.util.Arrays.fill(b, c * CHUNK, Math.min(size, (c + 1) * CHUNK), (byte) 0);
        }
        return b;
    }

    private static int firstNonZeroChunk(byte[] source) {
        for (int c = 0; c * CHUNK < source.length; c++) {
            for (int i = c * CHUNK; i < Math.min(source.length, (c + 1) * CHUNK); i++) {
                if (source[i] != 0) {
                    return c;
                }
            }
        }
        throw new IllegalArgumentException("all zero");
    }

    private static ReplicaImage.Source from(byte[] source) {
        return (offset, dst) -> dst.put(source, (int) offset, dst.remaining());
    }

    private static byte[] readAll(ReplicaImage replica) throws IOException {
        ByteBuffer all = ByteBuffer.allocate((int) replica.sizeBytes());
        replica.read(0, all);
        return all.array();
    }

    private static void flip(Path file, long position) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            c.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            c.write(one, position);
        }
    }
}
