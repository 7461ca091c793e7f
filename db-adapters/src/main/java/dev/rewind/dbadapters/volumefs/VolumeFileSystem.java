package dev.rewind.dbadapters.volumefs;

import dev.rewind.capture.BlockDevice;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.h2.store.fs.FilePath;

/**
 * H2's file system {@code rewind:}: each mounted {@link BlockDevice} is a directory
 * {@code rewind:<mountName>} holding at most one file, so every byte H2 stores there is
 * captured and journaled by the device. The first use registers the scheme with H2, once
 * per JVM; mounts are global to the JVM like H2's own file systems.
 *
 * <pre>{@code
 * VolumeFileSystem.mount("shop-m0", set.device("m0"));
 * DriverManager.getConnection("jdbc:h2:rewind:shop-m0/bank;FILE_LOCK=NO;TRACE_LEVEL_FILE=0");
 * // H2 stores rewind:shop-m0/bank.mv.db on device m0
 * }</pre>
 */
public final class VolumeFileSystem {
    /** The scheme H2 knows this file system by. */
    public static final String SCHEME = "rewind";

    private static final Pattern MOUNT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Map<String, DeviceFile> MOUNTS = new ConcurrentHashMap<>();

    static {
        FilePath.register(new VolumeFilePath());
    }

    private VolumeFileSystem() {
    }

    /**
     * Makes {@code device} the directory {@code rewind:<mountName>}. Its header is read and
     * checked now: a device with a damaged header is refused with an IOException.
     *
     * @throws RewindException if the name is not letters, digits, '.', '_' and '-', or is taken
     */
    public static void mount(String mountName, BlockDevice device) throws IOException {
        if (!MOUNT_NAME.matcher(mountName).matches()) {
            throw new RewindException("mount name '" + mountName + "' must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        DeviceFile file = new DeviceFile(mountName, device);
        if (MOUNTS.putIfAbsent(mountName, file) != null) {
            throw new RewindException("mount name " + mountName + " is taken (by device " + MOUNTS.get(mountName).device().name()
                    + "); unmount it first or choose another name");
        }
    }

    /**
     * Removes the mount; nothing happens if it is absent.
     *
     * @throws RewindException if H2 still has the file open (close the database first)
     */
    public static void unmount(String mountName) {
        MOUNTS.computeIfPresent(mountName, (name, file) -> {
            if (file.isOpen()) {
                throw new RewindException("cannot unmount " + pathOf(name, null) + ": H2 still has its file open; close the database first");
            }
            return null;
        });
    }

    public static boolean isMounted(String mountName) {
        return MOUNTS.containsKey(mountName);
    }

    public static List<String> mountNames() {
        return MOUNTS.keySet().stream().sorted().toList();
    }

    /** {@code rewind:<mountName>/<fileName>}, or the mount's directory when {@code fileName} is null. */
    public static String pathOf(String mountName, String fileName) {
        return SCHEME + ":" + mountName + (fileName == null ? "" : "/" + fileName);
    }

    /** The mounted device's file, or null. */
    static DeviceFile mounted(String mountName) {
        return MOUNTS.get(mountName);
    }
}
