package dev.rewind.testfixtures.set;

import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.io.DurableFiles;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A set on real files in a temp directory, for tests: one PV and one VG per call to
 * {@link #create}, one LV member per requested size (sizes are rounded up to 64 KiB extents),
 * plus optionally one whole-PV member.
 */
public final class TestSet implements AutoCloseable {
    public final Path root;
    public final Catalog catalog;
    public final VolumeManager volumes;
    public final String name;

    private TestSet(Path root, Catalog catalog, String name) {
        this.root = root;
        this.catalog = catalog;
        this.volumes = new VolumeManager(catalog);
        this.name = name;
    }

    /** Creates catalog, PVs, a VG with 64 KiB extents, one LV per size, and set {@code name}. */
    public static TestSet create(Path root, String name, long... lvSizes) throws IOException {
        Catalog catalog = Catalog.open(CatalogConfig.h2In(root.resolve("data")));
        TestSet t = new TestSet(root, catalog, name);
        long total = 0;
        for (long s : lvSizes) {
            total += (s + 65535) / 65536 * 65536;
        }
        t.volumes.createPv("pv0", root.resolve("pv0.img"), (1L << 20) + Math.max(total, 1L << 20));
        t.volumes.createVg("vg0", List.of("pv0"), 64L << 10);
        List<String> members = new ArrayList<>();
        for (int i = 0; i < lvSizes.length; i++) {
            t.volumes.createLv("m" + i, "vg0", lvSizes[i]);
            members.add("vg0/m" + i);
        }
        Sets.create(t.volumes, name, members, root.resolve("secondary"), ProgressListener.NONE);
        return t;
    }

    /**
     * As {@link #create}, on a disk that can lose power: the directory entries the catalog
     * created are forced too, as {@code rewind init} forces them, so that a power cut takes
     * only what the set itself did not force.
     */
    public static TestSet createDurably(Path root, String name, long... lvSizes) throws IOException {
        TestSet t = create(root, name, lvSizes);
        DurableFiles.forceDirectory(root.resolve("data").resolve("catalog"));
        DurableFiles.forceDirectory(root.resolve("data"));
        DurableFiles.forceDirectory(root);
        return t;
    }

    /** Reopens the catalog of an existing test set (e.g. in another process). */
    public static TestSet attach(Path root, String name) {
        return new TestSet(root, Catalog.open(CatalogConfig.h2In(root.resolve("data"))), name);
    }

    public CapturedSet open() throws IOException {
        return Sets.open(volumes, name, CaptureOptions.DEFAULT);
    }

    public CapturedSet open(CaptureOptions options) throws IOException {
        return Sets.open(volumes, name, options);
    }

    @Override
    public void close() {
        catalog.close();
    }
}
