package dev.rewind.volumeset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.catalog.LvRecord;
import dev.rewind.volumeset.catalog.SetRecord;
import dev.rewind.volumeset.layout.MemberLayout;
import dev.rewind.volumeset.layout.PrimaryMember;
import dev.rewind.volumeset.layout.SetPrimaries;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A VG of two PVs of 16 extents each: LV {@code a} takes 10 extents of pv0, LV {@code b}
 * (12 extents) the last 6 of pv0 and the first 6 of pv1. Writes through the member land at
 * the physical offsets the extent map promises.
 */
class LogicalVolumeLayoutTest {
    private static final long EXTENT = 64 * Sizes.KIB;
    private static final long DATA_OFFSET = Sizes.MIB;

    @TempDir
    Path root;
    private Catalog catalog;
    private VolumeManager volumes;
    private Path pv0;
    private Path pv1;

    @BeforeEach
    void createVgOfTwoPvs() {
        catalog = Catalog.open(CatalogConfig.h2In(root.resolve("data")));
        volumes = new VolumeManager(catalog);
        pv0 = root.resolve("pv0.img");
        pv1 = root.resolve("pv1.img");
        volumes.createPv("pv0", pv0, 2 * Sizes.MIB);
        volumes.createPv("pv1", pv1, 2 * Sizes.MIB);
        volumes.createVg("vg0", List.of("pv0", "pv1"), EXTENT);
    }

    @AfterEach
    void closeCatalog() {
        catalog.close();
    }

    @Test
    void anLvLargerThanTheRestOfItsFirstPvContinuesOnTheNext() {
        LvRecord a = volumes.createLv("a", "vg0", 10 * EXTENT - 1000);
        LvRecord b = volumes.createLv("b", "vg0", 12 * EXTENT);

        assertEquals(10 * EXTENT, a.sizeBytes(), "rounded up to whole extents");
        assertEquals(List.of(new LvRecord.Segment("pv0", 0, 10)), a.segments());
        assertEquals(List.of(new LvRecord.Segment("pv0", 10, 6), new LvRecord.Segment("pv1", 0, 6)), b.segments());
        assertEquals(List.of(b), catalog.lvsOfVg("vg0").stream().filter(lv -> lv.name().equals("b")).toList());

        SetRecord set = volumes.planSet("db", List.of("vg0/a", "vg0/b"), root.resolve("sec"), Sizes.MIB);
        catalog.insertSet(set);
        List<MemberLayout> layouts = volumes.layoutOf(set);
        assertEquals(List.of(new MemberLayout.Run(0, 6 * EXTENT, "pv0", DATA_OFFSET + 10 * EXTENT),
                new MemberLayout.Run(6 * EXTENT, 6 * EXTENT, "pv1", DATA_OFFSET)), layouts.get(1).runs());
    }

    @Test
    void writesThroughAMemberLandAtTheMappedOffsetsOfBothPvs() throws IOException {
        volumes.createLv("a", "vg0", 10 * EXTENT);
        volumes.createLv("b", "vg0", 12 * EXTENT);
        SetRecord set = volumes.planSet("db", List.of("vg0/a", "vg0/b"), root.resolve("sec"), Sizes.MIB);
        catalog.insertSet(set);
        long boundary = 6 * EXTENT; // member b's byte where pv0 ends and pv1 begins

        byte[] fillA = pattern(1, (int) (10 * EXTENT));
        byte[] across = pattern(2, 3000);
        try (SetPrimaries primaries = volumes.openPrimaries(set)) {
            PrimaryMember a = primaries.member(0);
            PrimaryMember b = primaries.member(1);
            a.write(0, ByteBuffer.wrap(fillA));
            b.write(boundary - 1000, ByteBuffer.wrap(across));
            b.write(0, ByteBuffer.wrap(pattern(3, 10)));
            b.write(12 * EXTENT - 10, ByteBuffer.wrap(pattern(4, 10)));
            primaries.force();

            ByteBuffer back = ByteBuffer.allocate(across.length);
            b.read(boundary - 1000, back);
            assertArrayEquals(across, back.array(), "reads back through the member");
        }

        assertArrayEquals(fillA, readAt(pv0, DATA_OFFSET, fillA.length), "LV a fills pv0's first 10 extents, untouched by b");
        assertArrayEquals(slice(across, 0, 1000), readAt(pv0, DATA_OFFSET + 16 * EXTENT - 1000, 1000), "first part at the end of pv0");
        assertArrayEquals(slice(across, 1000, 2000), readAt(pv1, DATA_OFFSET, 2000), "rest at the start of pv1's data");
        assertArrayEquals(pattern(3, 10), readAt(pv0, DATA_OFFSET + 10 * EXTENT, 10), "b's first byte is pv0's extent 10");
        assertArrayEquals(pattern(4, 10), readAt(pv1, DATA_OFFSET + 6 * EXTENT - 10, 10), "b's last bytes end pv1's extent 5");
        assertArrayEquals(new byte[(int) (10 * EXTENT)], readAt(pv1, DATA_OFFSET + 6 * EXTENT, (int) (10 * EXTENT)),
                "pv1's free extents stay zero");
    }

    static LongStream seeds() {
        return Seeds.of(42);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void randomWritesAcrossTheBoundaryMatchAModelOfTheMember(long seed) throws IOException {
        volumes.createLv("a", "vg0", 10 * EXTENT);
        volumes.createLv("b", "vg0", 12 * EXTENT);
        SetRecord set = volumes.planSet("db", List.of("vg0/b"), root.resolve("sec"), Sizes.MIB);
        catalog.insertSet(set);
        int size = (int) (12 * EXTENT);
        byte[] model = new byte[size];
        Random random = new Random(seed);
        try (SetPrimaries primaries = volumes.openPrimaries(set)) {
            PrimaryMember b = primaries.member(0);
            for (int i = 0; i < 200; i++) {
                int length = 1 + random.nextInt(20_000);
                int offset = random.nextInt(size - length + 1);
                byte[] data = new byte[length];
                random.nextBytes(data);
                b.write(offset, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, offset, length);
            }
            ByteBuffer all = ByteBuffer.allocate(size);
            b.read(0, all);
            assertArrayEquals(model, all.array(), Seeds.describe(seed) + ": member reads back its model");
        }
        byte[] physical = new byte[size];
        System.arraycopy(readAt(pv0, DATA_OFFSET + 10 * EXTENT, (int) (6 * EXTENT)), 0, physical, 0, (int) (6 * EXTENT));
        System.arraycopy(readAt(pv1, DATA_OFFSET, (int) (6 * EXTENT)), 0, physical, (int) (6 * EXTENT), (int) (6 * EXTENT));
        assertArrayEquals(model, physical, Seeds.describe(seed) + ": pv0 extents 10..15 then pv1 extents 0..5 hold the member");
    }

    private static byte[] pattern(int seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] slice(byte[] b, int from, int length) {
        byte[] out = new byte[length];
        System.arraycopy(b, from, out, 0, length);
        return out;
    }

    private static byte[] readAt(Path file, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            while (buf.hasRemaining() && c.read(buf, offset + buf.position()) >= 0) {
                // keep reading
            }
        }
        assertEquals(length, buf.position(), "bytes present in " + file);
        assertEquals(2 * Sizes.MIB, Files.size(file));
        return buf.array();
    }
}
