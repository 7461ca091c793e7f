package dev.rewind.volumeset.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.catalog.LvRecord;
import dev.rewind.volumeset.catalog.PvRecord;
import dev.rewind.volumeset.catalog.SetRecord;
import dev.rewind.volumeset.catalog.VgRecord;
import dev.rewind.volumeset.layout.SetPrimaries;
import dev.rewind.volumeset.pv.PhysicalVolumeLabel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Invariant 6 for the volume manager: every bad request gets a {@link RewindException} with a
 * clear message, and the catalog, the devices and the secondary are exactly as they were.
 */
class VolumeManagerTest {
    private static final long PV_BYTES = 2 * Sizes.MIB;
    private static final long EXTENT_BYTES = 64 * Sizes.KIB;
    private static final long REGION_BYTES = Sizes.MIB;

    @TempDir
    Path root;
    private Path devs;
    private Catalog catalog;
    private VolumeManager volumes;

    @BeforeEach
    void openCatalog() throws IOException {
        devs = Files.createDirectories(root.resolve("devs"));
        catalog = Catalog.open(CatalogConfig.h2In(root.resolve("data")));
        volumes = new VolumeManager(catalog);
    }

    @AfterEach
    void closeCatalog() {
        catalog.close();
    }

    // ---- the happy path, so that the refusals below are refusals of something that works ----

    @Test
    void createPvLabelsTheFileAndRecordsItInTheCatalog() throws IOException {
        Path file = devs.resolve("pv0.img");
        PvRecord pv = volumes.createPv("pv0", file, PV_BYTES);

        assertEquals(List.of(pv), catalog.listPvs());
        assertEquals(PV_BYTES, Files.size(file));
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            PhysicalVolumeLabel label = PhysicalVolumeLabel.readFrom(c, file);
            assertEquals(pv.uuid(), label.uuid());
            assertEquals("pv0", label.name());
            assertEquals(PhysicalVolumeLabel.DATA_OFFSET_BYTES, label.dataOffsetBytes());
        }
    }

    @Test
    void openPrimariesAcceptsTheLabelledPvs() throws IOException {
        SetRecord set = wholePvSet();
        try (SetPrimaries primaries = volumes.openPrimaries(set)) {
            assertEquals(2, primaries.members().size());
        }
    }

    // ---- wrong devices at open ----

    @Test
    void openPrimariesRefusesPvsWhoseFilesWereSwapped() throws IOException {
        SetRecord set = wholePvSet();
        Path a = devs.resolve("pv0.img");
        Path b = devs.resolve("pv1.img");
        byte[] contentA = Files.readAllBytes(a);
        Files.write(a, Files.readAllBytes(b));
        Files.write(b, contentA);

        RewindException e = assertRefusedAndNothingChanged(() -> volumes.openPrimaries(set).close(), "swapped", "pv0", a.toString());
        assertTrue(e.getMessage().contains("'pv1'"), "names the PV the device really is: " + e.getMessage());
    }

    @Test
    void openPrimariesRefusesAPvOverwrittenWithAnotherPvsLabel() throws IOException {
        SetRecord set = wholePvSet();
        byte[] otherLabel = new byte[PhysicalVolumeLabel.LABEL_LENGTH];
        try (FileChannel c = FileChannel.open(devs.resolve("pv1.img"), StandardOpenOption.READ)) {
            c.read(ByteBuffer.wrap(otherLabel), 0);
        }
        overwrite(devs.resolve("pv0.img"), 0, otherLabel);

        assertRefusedAndNothingChanged(() -> volumes.openPrimaries(set).close(), "swapped", "pv0");
    }

    @Test
    void openPrimariesRefusesAPvWhoseLabelWasWiped() throws IOException {
        SetRecord set = wholePvSet();
        overwrite(devs.resolve("pv1.img"), 0, new byte[PhysicalVolumeLabel.LABEL_LENGTH]);

        assertRefusedAndNothingChanged(() -> volumes.openPrimaries(set).close(), "no Rewind label", "pv1", "put the right device back");
    }

    @Test
    void openPrimariesRefusesAPvWhoseLabelIsDamaged() throws IOException {
        SetRecord set = wholePvSet();
        overwrite(devs.resolve("pv0.img"), 50, new byte[] {'X'}); // inside the name field, under the label's CRC

        Snapshot before = snapshot();
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> volumes.openPrimaries(set).close());
        assertEquals(devs.resolve("pv0.img"), e.file());
        assertTrue(e.getMessage().contains("label"), "says it is the PV label that is damaged: " + e.getMessage());
        assertEquals(before, snapshot());
    }

    @Test
    void openPrimariesRefusesATruncatedPv() throws IOException {
        SetRecord set = wholePvSet();
        try (FileChannel c = FileChannel.open(devs.resolve("pv1.img"), StandardOpenOption.WRITE)) {
            c.truncate(PV_BYTES - 4096);
        }
        assertRefusedAndNothingChanged(() -> volumes.openPrimaries(set).close(), "pv1", "smaller");
    }

    @Test
    void openPrimariesRefusesAMissingPv() throws IOException {
        SetRecord set = wholePvSet();
        Files.move(devs.resolve("pv1.img"), root.resolve("elsewhere.img"));
        assertRefusedAndNothingChanged(() -> volumes.openPrimaries(set).close(), "pv1", "does not exist");
    }

    // ---- creating PVs ----

    @Test
    void createPvRefusesANewFileBelowTheMinimumSize() {
        Path file = devs.resolve("small.img");
        assertRefusedAndNothingChanged(() -> volumes.createPv("small", file, Sizes.MIB), "too small", "2 MiB");
        assertFalse(Files.exists(file));
    }

    @Test
    void createPvRefusesAnExistingFileBelowTheMinimumSize() throws IOException {
        Path file = devs.resolve("small.img");
        Files.write(file, new byte[(int) Sizes.MIB]);
        assertRefusedAndNothingChanged(() -> volumes.createPv("small", file, null), "too small");
    }

    @Test
    void createPvRefusesAPathThatIsAlreadyAPv() {
        volumes.createPv("pv0", devs.resolve("pv0.img"), PV_BYTES);
        assertRefusedAndNothingChanged(() -> volumes.createPv("pv9", devs.resolve("pv0.img"), PV_BYTES), "already PV pv0");
        assertRefusedAndNothingChanged(() -> volumes.createPv("pv9", devs.resolve("x/../pv0.img"), PV_BYTES), "already PV pv0");
    }

    @Test
    void createPvRefusesASymlinkToAPv() throws IOException {
        volumes.createPv("pv0", devs.resolve("pv0.img"), PV_BYTES);
        Path link = Files.createSymbolicLink(devs.resolve("link.img"), devs.resolve("pv0.img"));
        assertRefusedAndNothingChanged(() -> volumes.createPv("pv9", link, null), "already carries the label of PV 'pv0'");
    }

    @Test
    void createPvRefusesAFileLabelledByAnotherCatalog() {
        Path file = devs.resolve("foreign.img");
        try (Catalog other = Catalog.open(CatalogConfig.h2In(root.resolve("other-data")))) {
            new VolumeManager(other).createPv("theirs", file, PV_BYTES);
        }
        assertRefusedAndNothingChanged(() -> volumes.createPv("mine", file, null),
                "already carries the label of PV 'theirs'", "another Rewind catalog", "wipe");
        assertRefusedAndNothingChanged(() -> volumes.createPv("mine", file, 2 * PV_BYTES), "already carries the label");
    }

    @Test
    void createPvRefusesADirectoryAMissingFileWithoutSizeAndAMissingParent() {
        assertRefusedAndNothingChanged(() -> volumes.createPv("d", devs, PV_BYTES), "is a directory");
        assertRefusedAndNothingChanged(() -> volumes.createPv("m", devs.resolve("missing.img"), null), "does not exist", "--size");
        assertRefusedAndNothingChanged(() -> volumes.createPv("p", devs.resolve("no/such/dir.img"), PV_BYTES), "does not exist");
    }

    @Test
    void createPvRefusesADuplicateName() {
        volumes.createPv("pv0", devs.resolve("pv0.img"), PV_BYTES);
        Path other = devs.resolve("other.img");
        assertRefusedAndNothingChanged(() -> volumes.createPv("pv0", other, PV_BYTES), "PV pv0 already exists");
        assertFalse(Files.exists(other));
    }

    // ---- creating VGs ----

    @Test
    void createVgRefusesAnExtentSizeThatIsNotAPowerOfTwoInRange() {
        volumes.createPv("pv0", devs.resolve("pv0.img"), PV_BYTES);
        for (long extent : new long[] {3 * Sizes.MIB, 100_000, 0, -4 * Sizes.MIB, 32 * Sizes.KIB, 2 * Sizes.GIB}) {
            assertRefusedAndNothingChanged(() -> volumes.createVg("vg0", List.of("pv0"), extent), "extent size", "power of two");
        }
    }

    @Test
    void createVgRefusesDuplicateNamesAndUnknownOrTakenPvs() {
        volumes.createPv("pv0", devs.resolve("pv0.img"), PV_BYTES);
        volumes.createPv("pv1", devs.resolve("pv1.img"), PV_BYTES);
        volumes.createPv("pv2", devs.resolve("pv2.img"), PV_BYTES);
        volumes.createVg("vg0", List.of("pv0"), EXTENT_BYTES);

        assertRefusedAndNothingChanged(() -> volumes.createVg("vg0", List.of("pv1"), EXTENT_BYTES), "VG vg0 already exists");
        assertRefusedAndNothingChanged(() -> volumes.createVg("vg1", List.of("pv1", "nope"), EXTENT_BYTES), "no PV named nope");
        assertRefusedAndNothingChanged(() -> volumes.createVg("vg1", List.of("pv1", "pv0"), EXTENT_BYTES), "PV pv0 is already in VG vg0");
        assertRefusedAndNothingChanged(() -> volumes.createVg("vg1", List.of("pv1", "pv1"), EXTENT_BYTES), "named twice");
        assertRefusedAndNothingChanged(() -> volumes.createVg("vg1", List.of(), EXTENT_BYTES), "at least one PV");
        assertRefusedAndNothingChanged(() -> volumes.createVg("vg1", List.of("pv1"), 2 * Sizes.MIB), "too small");

        catalog.insertSet(volumes.planSet("db", List.of("pv:pv2"), root.resolve("sec-db"), REGION_BYTES));
        assertRefusedAndNothingChanged(() -> volumes.createVg("vg1", List.of("pv1", "pv2"), EXTENT_BYTES),
                "PV pv2 is a whole-PV member of set db");
    }

    // ---- creating LVs ----

    @Test
    void createLvRefusesMoreThanTheVgHasFree() {
        oneVg(); // 16 extents of 64 KiB
        volumes.createLv("lv0", "vg0", 10 * EXTENT_BYTES);

        assertRefusedAndNothingChanged(() -> volumes.createLv("lv1", "vg0", 6 * EXTENT_BYTES + 1),
                "needs 7 extents", "VG vg0 has 6 free");
        assertRefusedAndNothingChanged(() -> volumes.createLv("lv1", "vg0", 1024 * Sizes.GIB), "VG vg0 has 6 free");
        volumes.createLv("lv1", "vg0", 6 * EXTENT_BYTES);
        assertRefusedAndNothingChanged(() -> volumes.createLv("lv2", "vg0", 1), "needs 1 extents", "has 0 free");
    }

    @ParameterizedTest(name = "size {0}")
    @ValueSource(longs = {Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE - 65534})
    void createLvRefusesASizeThatOverflowsWhenRoundedToExtents(long sizeBytes) {
        oneVg();
        assertRefusedAndNothingChanged(() -> volumes.createLv("huge", "vg0", sizeBytes), "VG vg0 has 16 free");
    }

    @Test
    void createLvRefusesANonPositiveSizeADuplicateNameAndAnUnknownVg() {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        assertRefusedAndNothingChanged(() -> volumes.createLv("lv1", "vg0", 0), "must be positive");
        assertRefusedAndNothingChanged(() -> volumes.createLv("lv1", "vg0", -EXTENT_BYTES), "must be positive");
        assertRefusedAndNothingChanged(() -> volumes.createLv("lv0", "vg0", EXTENT_BYTES), "LV vg0/lv0 already exists");
        assertRefusedAndNothingChanged(() -> volumes.createLv("lv1", "nope", EXTENT_BYTES), "no VG named nope");
    }

    // ---- planning sets ----

    @Test
    void planSetRefusesADuplicateName() {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        volumes.createLv("lv1", "vg0", EXTENT_BYTES);
        catalog.insertSet(volumes.planSet("db", List.of("vg0/lv0"), root.resolve("sec-db"), REGION_BYTES));
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("vg0/lv1"), root.resolve("sec-2"), REGION_BYTES),
                "set db already exists");
    }

    @Test
    void planSetRefusesUnknownMembers() {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        Path secondary = root.resolve("sec");
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("nope/lv0"), secondary, REGION_BYTES), "no LV nope/lv0");
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("vg0/lv0", "vg0/nope"), secondary, REGION_BYTES),
                "no LV vg0/nope");
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("pv:nope"), secondary, REGION_BYTES), "no PV named nope");
        for (String spec : List.of("lv0", "/lv0", "vg0/", "")) {
            assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of(spec), secondary, REGION_BYTES),
                    "neither VG/LV nor pv:PV");
        }
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of(), secondary, REGION_BYTES), "at least one member");
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("vg0/lv0", "vg0/lv0"), secondary, REGION_BYTES),
                "two members named lv0");
    }

    @Test
    void planSetRefusesAMemberOfAnotherSet() throws IOException {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        volumes.createLv("lv1", "vg0", EXTENT_BYTES);
        volumes.createPv("pv1", devs.resolve("pv1.img"), PV_BYTES);
        catalog.insertSet(volumes.planSet("db", List.of("vg0/lv0", "pv:pv1"), root.resolve("sec-db"), REGION_BYTES));

        assertRefusedAndNothingChanged(() -> volumes.planSet("other", List.of("vg0/lv1", "vg0/lv0"), root.resolve("sec-2"), REGION_BYTES),
                "vg0/lv0 is already a member of set db");
        assertRefusedAndNothingChanged(() -> volumes.planSet("other", List.of("pv:pv1"), root.resolve("sec-2"), REGION_BYTES),
                "pv:pv1 is already a member of set db");
    }

    @Test
    void planSetRefusesAPvOfAVgAsAWholePvMember() {
        oneVg();
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("pv:pv0"), root.resolve("sec"), REGION_BYTES),
                "PV pv0 is in VG vg0", "use its LVs");
    }

    @Test
    void planSetRefusesANonEmptySecondaryDirectory() throws IOException {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        Path secondary = Files.createDirectories(root.resolve("sec"));
        Files.writeString(secondary.resolve("someone-elses.txt"), "keep me");
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("vg0/lv0"), secondary, REGION_BYTES),
                "secondary directory", "is not empty");
    }

    @Test
    void planSetRefusesASecondaryPathThatIsAFile() throws IOException {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        Path secondary = Files.writeString(root.resolve("sec"), "a file, not a directory");
        assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("vg0/lv0"), secondary, REGION_BYTES),
                secondary.toString(), "not a directory");
    }

    @Test
    void planSetRefusesARegionSizeThatIsNotAPowerOfTwoOfAtLeast64K() {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        for (long region : new long[] {0, -Sizes.MIB, 32 * Sizes.KIB, 3 * Sizes.MIB}) {
            assertRefusedAndNothingChanged(() -> volumes.planSet("db", List.of("vg0/lv0"), root.resolve("sec"), region),
                    "region size");
        }
    }

    @Test
    void planSetWritesNothing() {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        Snapshot before = snapshot();
        SetRecord set = volumes.planSet("db", List.of("vg0/lv0"), root.resolve("sec"), REGION_BYTES);
        assertEquals("db", set.name());
        assertEquals(before, snapshot());
    }

    // ---- names ----

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"a/b", "-x", "", ".x", "+x", "a b", "a@b", "tab\tname", "ä",
            "a23456789012345678901234567890123456789012345678901234567890123x5"})
    void everyCreateRefusesABadName(String name) {
        oneVg();
        volumes.createLv("lv0", "vg0", EXTENT_BYTES);
        volumes.createPv("pv1", devs.resolve("pv1.img"), PV_BYTES);
        assertRefusedAndNothingChanged(() -> volumes.createPv(name, devs.resolve("bad.img"), PV_BYTES), "PV name", "is not valid");
        assertFalse(Files.exists(devs.resolve("bad.img")));
        assertRefusedAndNothingChanged(() -> volumes.createVg(name, List.of("pv1"), EXTENT_BYTES), "VG name", "is not valid");
        assertRefusedAndNothingChanged(() -> volumes.createLv(name, "vg0", EXTENT_BYTES), "LV name", "is not valid");
        assertRefusedAndNothingChanged(() -> volumes.planSet(name, List.of("vg0/lv0"), root.resolve("sec"), REGION_BYTES),
                "set name", "is not valid");
    }

    @Test
    void aNameOf64CharactersIsAccepted() {
        String name = "a".repeat(64);
        volumes.createPv(name, devs.resolve("long.img"), PV_BYTES);
        volumes.createVg(name, List.of(name), EXTENT_BYTES);
        volumes.createLv(name, name, EXTENT_BYTES);
        catalog.insertSet(volumes.planSet(name, List.of(name + "/" + name), root.resolve("sec"), REGION_BYTES));
        assertEquals(name, catalog.listSets().get(0).name());
    }

    // ---- helpers ----

    /** PV pv0 (16 extents of 64 KiB) in VG vg0. */
    private void oneVg() {
        volumes.createPv("pv0", devs.resolve("pv0.img"), PV_BYTES);
        volumes.createVg("vg0", List.of("pv0"), EXTENT_BYTES);
    }

    /** Set db of whole PVs pv0 and pv1. */
    private SetRecord wholePvSet() {
        volumes.createPv("pv0", devs.resolve("pv0.img"), PV_BYTES);
        volumes.createPv("pv1", devs.resolve("pv1.img"), PV_BYTES);
        SetRecord set = volumes.planSet("db", List.of("pv:pv0", "pv:pv1"), root.resolve("sec-db"), REGION_BYTES);
        catalog.insertSet(set);
        return set;
    }

    private static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    private RewindException assertRefusedAndNothingChanged(Executable request, String... messageParts) {
        Snapshot before = snapshot();
        RewindException e = assertThrows(RewindException.class, request);
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), "message should contain '" + part + "': " + e.getMessage());
        }
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(before, snapshot(), "a refused request changed something: " + e.getMessage());
        return e;
    }

    /** What the catalog lists, and every file under the test root (bar H2's own files) with its size and digest. */
    private record Snapshot(List<PvRecord> pvs, List<VgRecord> vgs, Map<String, List<LvRecord>> lvs, List<SetRecord> sets,
                            Map<String, String> files) {
    }

    private Snapshot snapshot() {
        List<VgRecord> vgs = catalog.listVgs();
        Map<String, List<LvRecord>> lvs = new TreeMap<>();
        for (VgRecord vg : vgs) {
            lvs.put(vg.name(), catalog.lvsOfVg(vg.name()));
        }
        Path catalogFiles = root.resolve("data").resolve("catalog");
        try (Stream<Path> walk = Files.walk(root)) {
            Map<String, String> files = walk.filter(p -> !p.startsWith(catalogFiles))
                    .collect(Collectors.toMap(p -> root.relativize(p).toString(), VolumeManagerTest::describe, (x, y) -> x, TreeMap::new));
            return new Snapshot(catalog.listPvs(), vgs, lvs, catalog.listSets(), files);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String describe(Path p) {
        try {
            if (Files.isSymbolicLink(p)) {
                return "link to " + Files.readSymbolicLink(p);
            }
            if (Files.isDirectory(p)) {
                return "dir";
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return Files.size(p) + " bytes, sha256 " + HexFormat.of().formatHex(sha.digest(Files.readAllBytes(p)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
