package dev.rewind.increments.increment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Damage to an increment file is found and named, never read as good bytes (Invariant 5): a
 * flipped byte in the header, the index or the footer, or a truncated file, is refused by
 * {@code open}; a flipped byte in a chunk (its header or its stored bytes) by {@code verify},
 * {@code forEach} and every {@code read} that needs it, naming the chunk's offset, while the
 * other chunks still read back exactly. Files crafted with consistent checksums but lengths or
 * bytes that lie are refused too, without allocating what the lie asks for.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=200}.
 */
class IncrementFileCorruptionTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void zstdCanLoad() throws IOException {
        IncrementWorkload.ensureTempDirExists();
    }

    static LongStream seeds() {
        return Seeds.range(0xC0770000L, 60);
    }

    enum Damage { HEADER, CHUNK_HEADER, CHUNK_BYTES, INDEX, FOOTER, TRUNCATION }

    /** Where the parts of a finished file are, read with the format's own decoders. */
    private record Parts(long size, long indexAt, IncrementIndex index) {
        static Parts of(Path file) throws IOException {
            try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = c.size();
                ByteBuffer f = ByteBuffer.allocate(IncrementFile.FOOTER_BYTES);
                IncrementFile.readFully(c, f, size - IncrementFile.FOOTER_BYTES);
                IncrementLayout.IndexLocation where = IncrementLayout.decodeFooter(file, f.flip(), size - IncrementFile.FOOTER_BYTES);
                ByteBuffer ib = ByteBuffer.allocate(where.lengthBytes());
                IncrementFile.readFully(c, ib, where.offsetBytes());
                return new Parts(size, where.offsetBytes(), IncrementIndex.decode(file, where.offsetBytes(), ib.flip(), IncrementWorkload.MEMBERS, IncrementFile.HEADER_BYTES));
            }
        }
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void damageIsFoundAndNamedNeverRead(long seed) throws IOException {
        Random r = new Random(seed);
        IncrementCodec codec = IncrementCodec.values()[(int) Math.floorMod(seed, 3L)];
        Damage damage = Damage.values()[r.nextInt(Damage.values().length)];
        IncrementWorkload w;
        do {
            w = IncrementWorkload.random(r, 6, 3 << 20);
        } while (w.rawBytes() == 0);
        Path file = dir.resolve("backward.rwi");
        w.write(file, codec);
        Parts parts = Parts.of(file);
        int chunk = r.nextInt(parts.index().chunkCount);
        long chunkAt = parts.index().chunkFileOffsets[chunk];
        long at = switch (damage) {
            case HEADER -> r.nextInt(IncrementFile.HEADER_BYTES);
            case CHUNK_HEADER -> chunkAt + r.nextInt(IncrementFile.CHUNK_HEADER_BYTES);
            case CHUNK_BYTES -> chunkAt + IncrementFile.CHUNK_HEADER_BYTES + r.nextInt(parts.index().storedLengths[chunk]);
            case INDEX -> parts.indexAt() + r.nextInt((int) (parts.size() - IncrementFile.FOOTER_BYTES - parts.indexAt()));
            case FOOTER -> parts.size() - IncrementFile.FOOTER_BYTES + r.nextInt(IncrementFile.FOOTER_BYTES);
            case TRUNCATION -> (long) (r.nextDouble() * parts.size());
        };
        String where = Seeds.describe(seed) + ", codec " + codec + ", " + damage + " at " + at + " of " + parts.size() + " (chunk " + chunk + " at " + chunkAt + ")";
        if (damage == Damage.TRUNCATION) {
            try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
                c.truncate(at);
            }
        } else {
            flip(file, at, r);
        }

        if (damage != Damage.CHUNK_HEADER && damage != Damage.CHUNK_BYTES) {
            CorruptDataException e = assertThrows(CorruptDataException.class, () -> IncrementFile.open(file), where);
            assertEquals(file, e.file(), where);
            assertTrue(e.offsetBytes() <= at, where + ": named offset " + e.offsetBytes() + " is at or before the damage (" + e.getMessage() + ")");
            return;
        }
        try (IncrementFile f = IncrementFile.open(file)) {
            assertEquals(w.coalescedExtents(), f.extents(), where);
            assertChunk(file, chunkAt, assertThrows(CorruptDataException.class, f::verify, where), where + ", verify");
            IncrementWorkload model = w;
            IncrementFile.ExtentConsumer checkPiece = (member, offset, length, data) -> {
                if (data != null) {
                    byte[] got = new byte[length];
                    data.get(got);
                    assertArrayEquals(model.expected(member, offset, length), got, where + ": forEach before the damaged chunk");
                }
            };
            assertChunk(file, chunkAt, assertThrows(CorruptDataException.class, () -> f.forEach(checkPiece), where), where + ", forEach");
            int refused = 0;
            for (IncrementWorkload.Added a : w.added) {
                if (a.data() == null) {
                    continue;
                }
                ByteBuffer dst = ByteBuffer.allocate((int) a.lengthBytes());
                try {
                    f.read(a.member(), a.offsetBytes(), dst);
                    assertArrayEquals(a.data(), dst.array(), where + ": read of member " + a.member() + " at " + a.offsetBytes());
                } catch (CorruptDataException e) {
                    assertChunk(file, chunkAt, e, where + ", read of member " + a.member() + " at " + a.offsetBytes());
                    refused++;
                }
            }
            assertTrue(refused > 0, where + ": some read needs the damaged chunk");
        }
    }

    private static void assertChunk(Path file, long chunkAt, CorruptDataException e, String where) {
        assertEquals(file, e.file(), where);
        assertEquals(chunkAt, e.offsetBytes(), where + ": names the damaged chunk (" + e.getMessage() + ")");
    }

    @Test
    void indexWithLyingLengthsAndGoodChecksumsIsRefusedAtOpen() throws IOException {
        Path file = dir.resolve("lying.rwi");
        IncrementWorkload w = IncrementWorkload.random(new Random(7), 4, 3 << 20);
        w.added.add(new IncrementWorkload.Added(IncrementWorkload.MEMBERS - 1, 1L << 40, 3 << 20, IncrementWorkload.data(new Random(8), 3 << 20)));
        w.write(file, IncrementCodec.ZSTD);
        Parts parts = Parts.of(file);
        long entryAt = IncrementIndex.encodedBytes(parts.index().extentCount, 0);
        rewriteIndex(file, parts, index -> index.putInt((int) entryAt + 8, Integer.MAX_VALUE));
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> IncrementFile.open(file));
        assertEquals(parts.indexAt() + entryAt, e.offsetBytes(), e.getMessage());

        w.write(dir.resolve("lying2.rwi"), IncrementCodec.LZ4);
        Path second = dir.resolve("lying2.rwi");
        Parts p2 = Parts.of(second);
        rewriteIndex(second, p2, index -> index.putLong(IncrementIndex.HEADER_BYTES + 8, Long.MAX_VALUE - 5)); // first extent's offset
        e = assertThrows(CorruptDataException.class, () -> IncrementFile.open(second));
        assertEquals(p2.indexAt() + IncrementIndex.HEADER_BYTES, e.offsetBytes(), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(value = IncrementCodec.class, names = {"ZSTD", "LZ4"})
    void garbageWithAGoodChunkChecksumIsRefusedByDecompression(IncrementCodec codec) throws IOException {
        Path file = dir.resolve("garbage.rwi");
        IncrementWorkload w = new IncrementWorkload();
        byte[] text = new byte[IncrementFile.CHUNK_BYTES];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + i % 7);
        }
        w.added.add(new IncrementWorkload.Added(0, 0, text.length, text));
        w.write(file, codec);
        Parts parts = Parts.of(file);
        int stored = parts.index().storedLengths[0];
        assertTrue(stored < text.length, "the chunk is compressed");
        byte[] garbage = new byte[stored];
        new Random(0xBAD).nextBytes(garbage);
        int storedCrc = IncrementFile.crc(garbage, 0, stored);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            IncrementFile.writeFully(c, ByteBuffer.wrap(garbage), IncrementFile.HEADER_BYTES + IncrementFile.CHUNK_HEADER_BYTES);
            IncrementFile.writeFully(c, IncrementLayout.chunkHeader(0, stored, text.length, (byte) 0, storedCrc, parts.index().rawCrcs[0]), IncrementFile.HEADER_BYTES);
        }
        long entryAt = IncrementIndex.encodedBytes(parts.index().extentCount, 0);
        rewriteIndex(file, parts, index -> index.putInt((int) entryAt + 20, storedCrc));
        try (IncrementFile f = IncrementFile.open(file)) {
            CorruptDataException e = assertThrows(CorruptDataException.class, f::verify);
            assertEquals(IncrementFile.HEADER_BYTES, e.offsetBytes(), e.getMessage());
            ByteBuffer dst = ByteBuffer.allocate(4096);
            assertThrows(CorruptDataException.class, () -> f.read(0, 0, dst));
        }
    }

    private interface IndexEdit {
        void apply(ByteBuffer index);
    }

    /** Edits the index in place and writes a footer with its new CRC: a file whose checksums all agree. */
    private static void rewriteIndex(Path file, Parts parts, IndexEdit edit) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int length = (int) (parts.size() - IncrementFile.FOOTER_BYTES - parts.indexAt());
            ByteBuffer index = ByteBuffer.allocate(length).order(ByteOrder.BIG_ENDIAN);
            IncrementFile.readFully(c, index, parts.indexAt());
            edit.apply(index);
            IncrementFile.writeFully(c, index.clear(), parts.indexAt());
            IncrementFile.writeFully(c, IncrementLayout.encodeFooter(parts.indexAt(), length, IncrementFile.crc(index.array(), 0, length)), parts.indexAt() + length);
        }
    }

    private static void flip(Path file, long at, Random r) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            IncrementFile.readFully(c, b, at);
            b.put(0, (byte) (b.get(0) ^ (1 + r.nextInt(255))));
            IncrementFile.writeFully(c, b.clear(), at);
        }
        assertTrue(Files.size(file) > at);
    }
}
