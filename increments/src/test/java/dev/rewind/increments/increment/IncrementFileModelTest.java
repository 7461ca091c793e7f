package dev.rewind.increments.increment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.seed.Seeds;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test of the increment format: a seeded random increment (random members, extents
 * of 1 byte to 3 MiB, zeros and data mixing compressible and random bytes) is written with each
 * codec, and everything the reader says must equal the model: header, coalesced extents, raw
 * bytes, {@code forEach}, random sub-range reads (one thread and several), and reads of ranges
 * it does not hold are refused without touching the buffer.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=200}.
 */
class IncrementFileModelTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void zstdCanLoad() throws Exception {
        IncrementWorkload.ensureTempDirExists();
    }

    static Stream<Arguments> seedsAndCodecs() {
        return Seeds.range(0x1C4E0000L, 8).boxed()
                .flatMap(seed -> Arrays.stream(IncrementCodec.values()).map(codec -> Arguments.of(seed, codec)));
    }

    @ParameterizedTest(name = Seeds.NAME + " {1}")
    @MethodSource("seedsAndCodecs")
    void readsAndForEachEqualTheModel(long seed, IncrementCodec codec) throws Exception {
        String where = Seeds.describe(seed) + ", codec " + codec;
        Random r = new Random(seed);
        IncrementWorkload w = IncrementWorkload.random(r, 12, 3 << 20);
        Path file = dir.resolve("forward.rwi");
        IncrementFile.IncrementSummary summary = w.write(file, codec);

        assertEquals(file, summary.file(), where);
        assertEquals(Files.size(file), summary.storedBytes(), where);
        assertEquals(w.rawBytes(), summary.rawBytes(), where);
        try (var dirList = Files.list(dir)) {
            assertEquals(List.of(file), dirList.toList(), where + ": only the finished file remains");
        }
        try (IncrementFile f = IncrementFile.open(file)) {
            assertEquals(w.header(codec), f.header(), where);
            assertEquals(w.coalescedExtents(), f.extents(), where);
            assertEquals(f.extents().size(), summary.extentCount(), where);
            assertEquals(w.rawBytes(), f.rawBytes(), where);
            assertEquals(Files.size(file), f.storedBytes(), where);
            f.verify();
            checkForEach(w, f, where);
            for (int i = 0; i < 60; i++) {
                checkRandomRead(w, f, r, where + ", read " + i);
            }
            checkRefusedReads(w, f, where);
            checkConcurrentReads(w, f, seed, where);
        }
    }

    private static void checkForEach(IncrementWorkload w, IncrementFile f, String where) throws Exception {
        List<IncrementExtent> extents = f.extents();
        int[] extent = {0};
        long[] next = {extents.get(0).offsetBytes()};
        f.forEach((member, offset, length, data) -> {
            while (next[0] == extents.get(extent[0]).endBytes()) {
                extent[0]++;
                next[0] = extents.get(extent[0]).offsetBytes();
            }
            IncrementExtent e = extents.get(extent[0]);
            String at = where + ", piece member " + member + " at " + offset;
            assertEquals(e.member(), member, at);
            assertEquals(next[0], offset, at + ": pieces come in order, back to back");
            assertTrue(length > 0 && length <= IncrementFile.CHUNK_BYTES && offset + length <= e.endBytes(), at + ": length " + length);
            if (e.zeros()) {
                assertNull(data, at + ": a zero extent has no bytes");
            } else {
                assertEquals(length, data.remaining(), at);
                byte[] got = new byte[length];
                data.get(got);
                assertArrayEquals(w.expected(member, offset, length), got, at);
            }
            next[0] += length;
        });
        assertEquals(extents.size() - 1, extent[0], where + ": forEach reached the last extent");
        assertEquals(extents.get(extents.size() - 1).endBytes(), next[0], where + ": forEach covered the last extent");
    }

    private static void checkRandomRead(IncrementWorkload w, IncrementFile f, Random r, String where) throws Exception {
        int i = r.nextInt(w.added.size());
        IncrementWorkload.Added a = w.added.get(i);
        long runEnd = w.runEnd(i);
        long from = a.offsetBytes() + (long) (r.nextDouble() * a.lengthBytes());
        long to = from + 1 + (long) (r.nextDouble() * Math.min(runEnd - from - 1, r.nextBoolean() ? 8192 : 4 << 20));
        int length = (int) (to - from);
        int pad = r.nextInt(16);
        ByteBuffer dst = r.nextBoolean() ? ByteBuffer.allocate(pad + length) : ByteBuffer.allocateDirect(pad + length);
        dst.position(pad);
        f.read(a.member(), from, dst);
        assertEquals(pad + length, dst.position(), where + ": fills dst");
        byte[] got = new byte[length];
        dst.get(pad, got);
        assertArrayEquals(w.expected(a.member(), from, length), got, where + ": member " + a.member() + " [" + from + ", " + to + ")");
    }

    private static void checkRefusedReads(IncrementWorkload w, IncrementFile f, String where) throws Exception {
        for (int i = 0; i < w.added.size(); i++) {
            IncrementWorkload.Added a = w.added.get(i);
            long runEnd = w.runEnd(i);
            ByteBuffer past = ByteBuffer.allocate((int) Math.min(runEnd - a.offsetBytes() + 1, 8 << 20));
            assertThrows(IllegalArgumentException.class, () -> f.read(a.member(), runEnd - past.capacity() + 1, past), where + ": a range past a run of extents");
            assertEquals(0, past.position(), where + ": a refused read leaves dst alone");
            boolean heldBefore = w.added.stream().anyMatch(b -> b.member() == a.member() && b.endBytes() == a.offsetBytes());
            if (!heldBefore && a.offsetBytes() > 0) {
                ByteBuffer before = ByteBuffer.allocate(2);
                assertThrows(IllegalArgumentException.class, () -> f.read(a.member(), a.offsetBytes() - 1, before), where + ": a range starting before an extent");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> f.read(IncrementWorkload.MEMBERS, 0, ByteBuffer.allocate(1)), where + ": a member the set does not have");
    }

    private static void checkConcurrentReads(IncrementWorkload w, IncrementFile f, long seed, String where) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Random r = new Random(seed * 31 + t);
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        checkRandomRead(w, f, r, where + ", concurrent read " + i);
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

}
