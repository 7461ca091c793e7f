package dev.rewind.increments.increment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer's contract: extents in ascending (member, offset) order and apart, adjacent ones
 * of the same kind coalesced; refused input changes nothing; the file appears only when
 * finished, whole, and survives as written; a writer closed without finishing leaves nothing;
 * chunks that do not get smaller are stored raw. And the codec names settings accept.
 */
class IncrementFileWriterTest {
    private static final IncrementHeader HEADER = new IncrementHeader(IncrementWorkload.SET, 3, IncrementDirection.BACKWARD, 10, 20, 2, IncrementCodec.ZSTD);

    @TempDir
    Path dir;

    @BeforeAll
    static void zstdCanLoad() throws IOException {
        IncrementWorkload.ensureTempDirExists();
    }

    private static ByteBuffer bytes(int length, int seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    @Test
    void extentsOutOfOrderOrOverlappingAreRefusedAndChangeNothing() throws IOException {
        Path file = dir.resolve("t.rwi");
        try (IncrementFile.Writer w = IncrementFile.create(file, HEADER)) {
            w.add(1, 8192, bytes(4096, 1));
            ByteBuffer before = bytes(100, 2);
            assertThrows(IllegalArgumentException.class, () -> w.add(1, 0, before), "before the last extent");
            assertEquals(0, before.position(), "a refused add consumes nothing");
            assertThrows(IllegalArgumentException.class, () -> w.add(1, 12287, bytes(10, 3)), "overlapping the last byte");
            assertThrows(IllegalArgumentException.class, () -> w.addZeros(1, 8192, 1), "at the same offset");
            assertThrows(IllegalArgumentException.class, () -> w.add(0, 1 << 30, bytes(10, 4)), "a lower member");
            assertThrows(IllegalArgumentException.class, () -> w.add(2, 0, bytes(10, 5)), "a member the set does not have");
            assertThrows(IllegalArgumentException.class, () -> w.addZeros(1, 1 << 20, 0), "an empty extent");
            assertThrows(IllegalArgumentException.class, () -> w.addZeros(1, -1, 10), "a negative offset");
            assertThrows(IllegalArgumentException.class, () -> w.addZeros(1, Long.MAX_VALUE - 5, 10), "past the largest offset");
            w.addZeros(1, 12288, 4096);
            w.finish();
        }
        try (IncrementFile f = IncrementFile.open(file)) {
            assertEquals(List.of(new IncrementExtent(1, 8192, 4096, false), new IncrementExtent(1, 12288, 4096, true)), f.extents());
            ByteBuffer dst = ByteBuffer.allocate(4096);
            f.read(1, 8192, dst);
            assertArrayEquals(bytes(4096, 1).array(), dst.array());
        }
    }

    @Test
    void adjacentExtentsOfTheSameKindAreCoalesced() throws IOException {
        Path file = dir.resolve("t.rwi");
        try (IncrementFile.Writer w = IncrementFile.create(file, HEADER)) {
            w.add(0, 0, bytes(100, 1));
            w.add(0, 100, bytes(100, 2));
            w.addZeros(0, 200, 50);
            w.addZeros(0, 250, 50);
            w.add(0, 300, bytes(10, 3));
            w.add(1, 310, bytes(10, 4));
            IncrementFile.IncrementSummary s = w.finish();
            assertEquals(4, s.extentCount());
            assertEquals(220, s.rawBytes());
        }
        try (IncrementFile f = IncrementFile.open(file)) {
            assertEquals(List.of(new IncrementExtent(0, 0, 200, false), new IncrementExtent(0, 200, 100, true),
                    new IncrementExtent(0, 300, 10, false), new IncrementExtent(1, 310, 10, false)), f.extents());
            ByteBuffer dst = ByteBuffer.allocate(310);
            f.read(0, 0, dst);
            byte[] expected = new byte[310];
            System.arraycopy(bytes(100, 1).array(), 0, expected, 0, 100);
            System.arraycopy(bytes(100, 2).array(), 0, expected, 100, 100);
            System.arraycopy(bytes(10, 3).array(), 0, expected, 300, 10);
            assertArrayEquals(expected, dst.array(), "one read across data, zeros and data");
        }
    }

    @Test
    void closeWithoutFinishLeavesNoFile() throws IOException {
        Path file = dir.resolve("t.rwi");
        try (IncrementFile.Writer w = IncrementFile.create(file, HEADER)) {
            w.add(0, 0, bytes(3 << 20, 1));
            try (var listing = Files.list(dir)) {
                List<Path> during = listing.toList();
                assertEquals(1, during.size(), "only the temporary file while writing: " + during);
                assertTrue(IncrementFile.isTemporary(during.get(0)), during.get(0) + " is named as temporary");
            }
            assertFalse(Files.exists(file), "the increment does not appear before finish");
        }
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(), listing.toList(), "nothing is left");
        }
        assertFalse(IncrementFile.isTemporary(file));
    }

    @Test
    void finishedFileSurvivesAsWrittenAndTheWriterIsDone() throws IOException {
        Path file = dir.resolve("t.rwi");
        IncrementFile.Writer w = IncrementFile.create(file, HEADER);
        w.add(0, 4096, bytes(5 << 20, 9));
        IncrementFile.IncrementSummary s = w.finish();
        w.close();
        w.close();
        assertThrows(IllegalStateException.class, () -> w.add(1, 0, bytes(1, 1)), "a finished writer takes no more extents");
        assertEquals(new IncrementFile.IncrementSummary(file, Files.size(file), 5 << 20, 1), s);
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(file), listing.toList());
        }
        try (IncrementFile f = IncrementFile.open(file)) {
            assertEquals(HEADER, f.header());
            ByteBuffer dst = ByteBuffer.allocate(5 << 20);
            f.read(0, 4096, dst);
            assertArrayEquals(bytes(5 << 20, 9).array(), dst.array());
            f.verify();
        }
    }

    @Test
    void anExistingIncrementIsNotReplaced() throws IOException {
        Path file = dir.resolve("t.rwi");
        Files.write(file, new byte[] {1, 2, 3});
        assertThrows(FileAlreadyExistsException.class, () -> IncrementFile.create(file, HEADER));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(file));
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(file), listing.toList(), "no temporary file is left");
        }
    }

    @Test
    void anEmptyIncrementOpensAndHoldsNothing() throws IOException {
        Path file = dir.resolve("t.rwi");
        try (IncrementFile.Writer w = IncrementFile.create(file, HEADER)) {
            assertEquals(0, w.finish().rawBytes());
        }
        try (IncrementFile f = IncrementFile.open(file)) {
            assertEquals(List.of(), f.extents());
            assertEquals(0, f.rawBytes());
            f.verify();
            f.forEach((member, offset, length, data) -> {
                throw new AssertionError("no extents");
            });
            assertThrows(IllegalArgumentException.class, () -> f.read(0, 0, ByteBuffer.allocate(1)));
        }
    }

    @Test
    void chunksThatDoNotGetSmallerAreStoredRawAndCompressibleOnesShrink() throws IOException {
        for (IncrementCodec codec : IncrementCodec.values()) {
            IncrementHeader h = new IncrementHeader(IncrementWorkload.SET, 1, IncrementDirection.FORWARD, 1, 1, 1, codec);
            Path random = dir.resolve("random-" + codec.settingName() + ".rwi");
            try (IncrementFile.Writer w = IncrementFile.create(random, h)) {
                w.add(0, 0, bytes(3 << 20, 5));
                long overhead = IncrementFile.HEADER_BYTES + 3L * IncrementFile.CHUNK_HEADER_BYTES + IncrementIndex.encodedBytes(1, 3) + IncrementFile.FOOTER_BYTES;
                assertEquals((3 << 20) + overhead, w.finish().storedBytes(), codec + ": random bytes are stored raw, never larger");
            }
            Path text = dir.resolve("text-" + codec.settingName() + ".rwi");
            try (IncrementFile.Writer w = IncrementFile.create(text, h)) {
                byte[] pages = IncrementWorkload.data(new Random(1), 3 << 20);
                Arrays.fill(pages, 0, 1 << 20, (byte) 'x');
                w.add(0, 0, ByteBuffer.wrap(pages));
                IncrementFile.IncrementSummary s = w.finish();
                if (codec == IncrementCodec.NONE) {
                    assertTrue(s.storedBytes() > s.rawBytes(), codec + " stores everything as is");
                } else {
                    assertTrue(s.storedBytes() < s.rawBytes() * 3 / 4, codec + " shrinks compressible bytes: " + s);
                }
            }
        }
    }

    @Test
    void codecNamesParseAndNonsenseIsRefusedClearly() {
        assertEquals(IncrementCodec.ZSTD, IncrementCodec.parse("zstd"));
        assertEquals(IncrementCodec.LZ4, IncrementCodec.parse("LZ4"));
        assertEquals(IncrementCodec.NONE, IncrementCodec.parse(" none "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IncrementCodec.parse("gzip"));
        assertEquals("unknown increment compression 'gzip': use zstd, lz4 or none", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IncrementCodec.parse(null));
        for (IncrementCodec c : IncrementCodec.values()) {
            assertEquals(c, IncrementCodec.parse(c.settingName()));
            assertEquals(c, IncrementCodec.ofCode(c.code()));
        }
    }
}
