package dev.rewind.capture;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.catalog.SetRecord;
import dev.rewind.volumeset.layout.SetPrimaries;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Creating production volume sets and opening them for capture. */
public final class Sets {
    public static final long DEFAULT_REGION_SIZE_BYTES = 1L << 20;

    private Sets() {
    }

    /**
     * Creates a set: validates it, lays out its secondary (label, journal, dirty region log,
     * a replica of each member as it is now), then records it in the catalog. If any step
     * fails, the secondary is removed and the catalog is unchanged.
     */
    public static SetRecord create(VolumeManager volumes, String name, List<String> memberSpecs, Path secondaryDir,
                                   ProgressListener progress) throws IOException {
        SetRecord set = volumes.planSet(name, memberSpecs, secondaryDir, DEFAULT_REGION_SIZE_BYTES);
        boolean existed = Files.exists(set.secondaryDir());
        if (existed) {
            dev.rewind.volumeset.io.PrivateFiles.checkPrivate(set.secondaryDir(), "secondary directory");
        }
        boolean done = false;
        try (SetPrimaries primaries = volumes.openPrimaries(set)) {
            SetSecondary.initialize(set, primaries, volumes.access(), progress);
            volumes.catalog().insertSet(set);
            done = true;
            return set;
        } finally {
            if (!done) {
                if (existed) {
                    try (var s = Files.list(set.secondaryDir())) {
                        for (Path p : s.toList()) {
                            SetSecondary.delete(p);
                        }
                    }
                } else {
                    SetSecondary.delete(set.secondaryDir());
                }
            }
        }
    }

    /**
     * Removes a set from the catalog (its bookmarks and restore records with it; its LVs and PVs
     * stay), and its secondary directory only with {@code deleteSecondary}. Refused while any
     * process has the set open. Returns the secondary directory.
     */
    public static Path delete(VolumeManager volumes, String name, boolean deleteSecondary) throws IOException {
        SetRecord set = volumes.findSet(name);
        Path secondary = set.secondaryDir();
        SetLock lock = Files.isDirectory(secondary) ? SetLock.acquire(name, secondary) : null;
        try {
            volumes.catalog().deleteSet(name);
        } finally {
            if (lock != null) {
                lock.close();
            }
        }
        if (deleteSecondary) {
            SetSecondary.delete(secondary);
            if (Files.exists(secondary)) {
                throw new IOException("set " + name + " is deleted from the catalog, but its secondary " + secondary
                        + " could not be removed completely; remove it by hand");
            }
        }
        return secondary;
    }

    /** Opens a set for capture, running recovery. One process at a time. */
    public static CapturedSet open(VolumeManager volumes, String name, CaptureOptions options) throws IOException {
        SetRecord set = volumes.findSet(name);
        SetPrimaries primaries = volumes.openPrimaries(set);
        try {
            return CapturedSet.open(set, primaries, options);
        } catch (IOException | RuntimeException e) {
            primaries.close();
            throw e;
        }
    }
}
