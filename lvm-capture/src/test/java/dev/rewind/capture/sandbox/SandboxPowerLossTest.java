package dev.rewind.capture.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.testfixtures.fs.FaultPlan;
import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.catalog.SandboxRecord;
import dev.rewind.volumeset.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sandboxes under power loss, with the catalog, the set and the sandbox root on the power-loss
 * file system: a sandbox's writes, flushes and more writes, then the power goes; after a
 * restart every flushed (or FUA) write reads back exactly, each write not yet flushed reads as
 * its old or its new content (whole, or byte by byte when dirty pages may reach the disk torn),
 * and nothing else changed. Creation and drop are cut at each of their forces in turn (the
 * force fails, then the power goes): the sandbox is whole (its row, its directory, its past and
 * its flushed writes) or gone (no row, no file).
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=20}.
 */
class SandboxPowerLossTest {
    private static final long KIB = 1024;
    private static final long SLOT = 16 * KIB;
    private static final long[] SIZES = {256 * KIB, 192 * KIB};

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x5A9_0001L, 6);
    }

    /** The set, its catalog and its sandboxes, as a daemon would hold them, on one disk. */
    private final class World {
        final Path disk;
        final Path root;
        TestSet t;
        CapturedSet set;
        Sandboxes sandboxes;

        World(Path disk) {
            this.disk = disk;
            this.root = disk.resolve("sandboxes");
        }

        void open() throws IOException {
            if (t == null) {
                t = TestSet.attach(disk, "s");
            }
            set = t.open(new CaptureOptions(1L << 20, CaptureOptions.DEFAULT.clock(), Duration.ZERO));
            sandboxes = Sandboxes.open(root, t.catalog);
        }

        /** The power goes: everything open fails from now on and is closed as it is. */
        void powerCut(PowerLossDisk d, Random r, PowerLossDisk.Survival survival, AutoCloseable... open) throws IOException {
            d.injectFaults(null);
            d.powerCut(r, survival);
            for (AutoCloseable c : open) {
                closeDead(c);
            }
            closeDead(sandboxes);
            closeDead(set);
            closeDead(t.catalog);
            t = null;
            d.restart();
        }
    }

    static void closeDead(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception expected) {
            // the power is off: nothing it does now reaches the disk
        }
    }

    /** A set with some history (flushed, cut once), on a tracked disk; returns the model at every seq. */
    private List<ImageModel> history(World w, Random r) throws IOException {
        TestSet t = TestSet.create(w.disk, "s", SIZES);
        // TestSet opens the H2 catalog directly; 'rewind init' forces the entries H2 created, so do the same here
        DurableFiles.forceDirectory(w.disk.resolve("data").resolve("catalog"));
        DurableFiles.forceDirectory(w.disk.resolve("data"));
        DurableFiles.forceDirectory(w.disk);
        w.t = t;
        w.open();
        List<ImageModel> images = new ArrayList<>();
        images.add(ImageModel.zeros(SIZES));
        for (int i = 0; i < 30; i++) {
            int m = r.nextInt(SIZES.length);
            byte[] data = new byte[1 + r.nextInt(20_000)];
            r.nextBytes(data);
            long off = (long) (r.nextDouble() * (SIZES[m] - data.length));
            w.set.devices().get(m).write(off, ByteBuffer.wrap(data), false);
            images.add(images.get(images.size() - 1).write(m, off, data));
            if (i == 12) {
                w.set.cut(CutReason.DEMAND);
            }
        }
        w.set.flush();
        w.set.checkpoint();
        return images;
    }

    /** One write not yet flushed: its range, and what it put there. */
    private record Pending(int member, long offset, byte[] data) {
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void flushedSandboxWritesSurviveAndUnflushedOnesReadOldOrNew(long seed) throws IOException {
        Random r = new Random(seed);
        Path diskRoot = Files.createDirectory(tmp.resolve("disk"));
        try (PowerLossDisk disk = PowerLossFileSystemProvider.installed().track(diskRoot)) {
            World w = new World(diskRoot);
            List<ImageModel> images = history(w, r);
            long seq = r.nextInt(images.size());
            w.sandboxes.create(w.set, "sb", seq, Long.toString(seq));
            ImageModel durable = images.get((int) seq);
            List<Pending> pending = new ArrayList<>();
            for (int round = 1; round <= 6; round++) {
                String context = Seeds.describe(seed) + ", sandbox at seq " + seq + ", round " + round;
                Sandbox sb = w.sandboxes.open(w.set, "sb");
                boolean[][] used = new boolean[SIZES.length][];
                for (int m = 0; m < SIZES.length; m++) {
                    used[m] = new boolean[(int) (SIZES[m] / SLOT)];
                }
                for (int i = 0, n = 5 + r.nextInt(25); i < n; i++) {
                    int k = r.nextInt(10);
                    if (k < 2) {
                        // a flush makes durable what was written to that member (each member is a disk of its own)
                        int flushed = r.nextInt(SIZES.length);
                        sb.members().get(flushed).flush();
                        List<Pending> made = pending.stream().filter(p -> p.member() == flushed).toList();
                        durable = applied(durable, made);
                        pending.removeAll(made);
                        Arrays.fill(used[flushed], false);
                        continue;
                    }
                    int m = r.nextInt(SIZES.length);
                    int slot = r.nextInt(used[m].length);
                    if (used[m][slot]) {
                        continue; // unflushed writes never overlap, so that each is old or new on its own
                    }
                    used[m][slot] = true;
                    int len = 1 + r.nextInt((int) SLOT);
                    long off = slot * SLOT + r.nextInt((int) SLOT - len + 1);
                    BlockDevice d = sb.members().get(m);
                    boolean fua = r.nextInt(5) == 0;
                    byte[] data = new byte[len];
                    if (k < 8) {
                        r.nextBytes(data);
                        d.write(off, ByteBuffer.wrap(data), fua);
                    } else if (k == 8) {
                        d.trim(off, len, fua);
                    } else {
                        d.writeZeroes(off, len, fua);
                    }
                    Pending p = new Pending(m, off, data);
                    if (fua) {
                        durable = applied(durable, List.of(p));
                    } else {
                        pending.add(p);
                    }
                }
                PowerLossDisk.Survival survival = r.nextBoolean() ? PowerLossDisk.Survival.NONE : PowerLossDisk.Survival.SOME_PAGES;
                w.powerCut(disk, r, survival, sb);
                w.open();
                assertEquals(images.size() - 1, w.set.lastSeq(), context + ": production is as it was");
                images.get(images.size() - 1).assertPrimaryEquals(w.set, context + ": production's primary is as it was");
                try (Sandbox back = w.sandboxes.open(w.set, "sb")) {
                    durable = checkOldOrNew(back, durable, pending, survival, context + ", after a power cut (" + survival + ")");
                }
                pending.clear();
            }
            w.sandboxes.drop("s", "sb");
            SandboxFiles.assertOnlyListedSandboxFiles(w.root, w.t.catalog, Seeds.describe(seed) + ", after the drop");
            w.sandboxes.close();
            w.set.close();
            w.t.close();
        }
    }

    private static ImageModel applied(ImageModel image, List<Pending> writes) {
        for (Pending p : writes) {
            image = image.write(p.member(), p.offset(), p.data());
        }
        return image;
    }

    /**
     * Reads every member: outside the unflushed writes it is {@code durable}; inside each it is
     * all old or all new ({@link PowerLossDisk.Survival#NONE}: pages reach the disk only by a
     * force), or each byte old or new (torn pages). Returns what the sandbox holds now.
     */
    private static ImageModel checkOldOrNew(Sandbox sb, ImageModel durable, List<Pending> pending, PowerLossDisk.Survival survival,
                                            String context) throws IOException {
        ImageModel now = ImageModel.zeros(SIZES);
        for (int m = 0; m < SIZES.length; m++) {
            byte[] got = ImageModel.readDevice(sb.members().get(m));
            byte[] expected = durable.bytes(m);
            for (Pending p : pending) {
                if (p.member() != m) {
                    continue;
                }
                int from = (int) p.offset();
                int to = from + p.data().length;
                byte[] old = Arrays.copyOfRange(expected, from, to);
                byte[] found = Arrays.copyOfRange(got, from, to);
                if (survival == PowerLossDisk.Survival.NONE) {
                    if (!Arrays.equals(found, old) && !Arrays.equals(found, p.data())) {
                        fail(context + ": member " + m + " " + from + "+" + p.data().length + " is neither the old nor the new content");
                    }
                } else {
                    for (int i = 0; i < found.length; i++) {
                        if (found[i] != old[i] && found[i] != p.data()[i]) {
                            fail(context + ": member " + m + " byte " + (from + i) + " of an unflushed write is " + (found[i] & 0xff)
                                    + ", neither old " + (old[i] & 0xff) + " nor new " + (p.data()[i] & 0xff));
                        }
                    }
                }
                System.arraycopy(found, 0, expected, from, found.length);
            }
            ImageModel.assertSameBytes(context + ", member " + m + " (every flushed write, nothing else)", expected, got);
            now = now.write(m, 0, got);
        }
        return now;
    }

    /** Where a sandbox's creation and drop write: the sandbox root and the catalog. */
    private static Predicate<Path> sandboxOrCatalog(Path disk) {
        String sandboxes = disk.resolve("sandboxes").toAbsolutePath().toString();
        String catalog = disk.resolve("data").toAbsolutePath().toString();
        return p -> p.toString().startsWith(sandboxes) || p.toString().startsWith(catalog);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void creationAndDropCutAtEveryForceLeaveTheSandboxWholeOrGone(long seed) throws IOException {
        Random r = new Random(seed);
        Path diskRoot = Files.createDirectory(tmp.resolve("disk"));
        try (PowerLossDisk disk = PowerLossFileSystemProvider.installed().track(diskRoot)) {
            World w = new World(diskRoot);
            List<ImageModel> images = history(w, r);
            Predicate<Path> files = sandboxOrCatalog(diskRoot);
            int wholes = 0;
            int gones = 0;
            // creation, cut at its k-th force
            for (long k = 1; ; k++) {
                String context = Seeds.describe(seed) + ", create cut at force #" + k;
                long seq = r.nextInt(images.size());
                FaultPlan plan = new FaultPlan(files, FaultPlan.Operation.FORCE, k);
                disk.injectFaults(plan);
                boolean returned;
                try {
                    w.sandboxes.create(w.set, "sb", seq, Long.toString(seq));
                    returned = true;
                } catch (IOException | RuntimeException e) {
                    returned = false;
                    if (plan.injected() == null) {
                        throw e;
                    }
                }
                disk.injectFaults(null);
                w.powerCut(disk, r, PowerLossDisk.Survival.SOME_PAGES);
                w.open();
                boolean whole = wholeOrGone(w, images.get((int) seq), seq, context);
                if (returned) {
                    assertTrue(whole, context + ": a sandbox whose creation returned survives the power cut");
                }
                if (whole) {
                    wholes++;
                    w.sandboxes.drop("s", "sb");
                } else {
                    gones++;
                }
                if (plan.injected() == null) {
                    break; // creation has fewer than k forces: all swept
                }
            }
            // drop, cut at its k-th force
            for (long k = 1; ; k++) {
                String context = Seeds.describe(seed) + ", drop cut at force #" + k;
                long seq = r.nextInt(images.size());
                w.sandboxes.create(w.set, "sb", seq, Long.toString(seq));
                byte[] data = new byte[1 + r.nextInt(9000)];
                r.nextBytes(data);
                long off = (long) (r.nextDouble() * (SIZES[1] - data.length));
                try (Sandbox sb = w.sandboxes.open(w.set, "sb")) {
                    sb.members().get(1).write(off, ByteBuffer.wrap(data), true);
                }
                ImageModel expected = images.get((int) seq).write(1, off, data);
                FaultPlan plan = new FaultPlan(files, FaultPlan.Operation.FORCE, k);
                disk.injectFaults(plan);
                boolean returned;
                try {
                    w.sandboxes.drop("s", "sb");
                    returned = true;
                } catch (IOException | RuntimeException e) {
                    returned = false;
                    if (plan.injected() == null) {
                        throw e;
                    }
                }
                disk.injectFaults(null);
                w.powerCut(disk, r, PowerLossDisk.Survival.SOME_PAGES);
                w.open();
                boolean whole = wholeOrGone(w, expected, seq, context);
                if (returned) {
                    assertFalse(whole, context + ": a sandbox whose drop returned stays gone after the power cut");
                }
                if (whole) {
                    wholes++;
                    w.sandboxes.drop("s", "sb");
                } else {
                    gones++;
                }
                if (plan.injected() == null) {
                    break;
                }
            }
            assertTrue(wholes > 0 && gones > 0, Seeds.describe(seed) + ": the sweep saw both outcomes: " + wholes + " whole, " + gones + " gone");
            images.get(images.size() - 1).assertPrimaryEquals(w.set, Seeds.describe(seed) + ": production is as it was");
            w.sandboxes.close();
            w.set.close();
            w.t.close();
        }
    }

    /** After a restart: sandbox sb is whole (true) or gone (false), never anything in between. */
    private static boolean wholeOrGone(World w, ImageModel expected, long seq, String context) throws IOException {
        Optional<SandboxRecord> row = w.t.catalog.sandboxes().find("s", "sb");
        List<SandboxRecord> listed = w.sandboxes.list("s");
        SandboxFiles.assertOnlyListedSandboxFiles(w.root, w.t.catalog, context);
        if (row.isEmpty()) {
            assertTrue(listed.isEmpty(), context + ": a sandbox without its row is not listed: " + listed);
            assertTrue(SandboxFiles.listing(w.root).values().stream().allMatch(size -> size < 0),
                    context + ": a sandbox that is gone leaves no file: " + SandboxFiles.listing(w.root));
            return false;
        }
        assertEquals(List.of(row.get()), listed, context + ": the sandbox is listed");
        assertEquals(seq, row.get().seq(), context + ": its seq");
        assertTrue(Files.isDirectory(Path.of(row.get().dir())), context + ": its directory " + row.get().dir() + " is there");
        try (Sandbox sb = w.sandboxes.open(w.set, "sb")) {
            SandboxFiles.assertReads(sb, expected, context + ": the whole sandbox");
        }
        return true;
    }
}
