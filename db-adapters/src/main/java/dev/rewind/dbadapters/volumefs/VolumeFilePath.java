package dev.rewind.dbadapters.volumefs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import org.h2.api.ErrorCode;
import org.h2.message.DbException;
import org.h2.store.fs.FilePath;

/**
 * A path of H2's {@code rewind:} file system: {@code rewind:<mountName>} is the directory
 * of a mounted device, {@code rewind:<mountName>/<fileName>} the file it may hold. There
 * are no deeper levels and no root listing. H2's FilePath methods cannot throw checked
 * exceptions, so I/O errors reach H2 as {@link DbException}s carrying the message.
 */
final class VolumeFilePath extends FilePath {
    private final String mountName;
    private final String fileName; // null: the mount's directory

    /** The provider instance registered with H2. */
    VolumeFilePath() {
        this("", null);
    }

    private VolumeFilePath(String mountName, String fileName) {
        this.mountName = mountName;
        this.fileName = fileName;
        this.name = VolumeFileSystem.pathOf(mountName, fileName);
    }

    @Override
    public String getScheme() {
        return VolumeFileSystem.SCHEME;
    }

    /** Parses {@code rewind:<mount>[/<file>]}; leading slashes and one trailing slash are ignored. */
    @Override
    public VolumeFilePath getPath(String path) {
        String rest = path.substring(path.indexOf(':') + 1).replaceFirst("^/+", "");
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        int slash = rest.indexOf('/');
        return slash < 0 ? new VolumeFilePath(rest, null) : new VolumeFilePath(rest.substring(0, slash), rest.substring(slash + 1));
    }

    @Override
    public long size() {
        DeviceFile device = VolumeFileSystem.mounted(mountName);
        try {
            return device == null || fileName == null ? 0 : device.sizeOf(fileName);
        } catch (IOException e) {
            throw DbException.convertIOException(e, name);
        }
    }

    @Override
    public boolean exists() {
        DeviceFile device = VolumeFileSystem.mounted(mountName);
        try {
            return device != null && (fileName == null || device.holds(fileName));
        } catch (IOException e) {
            throw DbException.convertIOException(e, name);
        }
    }

    @Override
    public boolean isDirectory() {
        return fileName == null && VolumeFileSystem.isMounted(mountName);
    }

    @Override
    public boolean isRegularFile() {
        return fileName != null && exists();
    }

    @Override
    public List<FilePath> newDirectoryStream() {
        List<FilePath> files = new ArrayList<>(); // mutable: H2's wrapping file systems rewrite it in place
        DeviceFile device = VolumeFileSystem.mounted(mountName);
        if (device == null || fileName != null) {
            return files;
        }
        try {
            device.fileName().ifPresent(f -> files.add(new VolumeFilePath(mountName, f)));
            return files;
        } catch (IOException e) {
            throw DbException.convertIOException(e, name);
        }
    }

    @Override
    public boolean createFile() {
        try {
            return file().create(fileName);
        } catch (IOException e) {
            throw DbException.convertIOException(e, name);
        }
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return file().open(fileName, !"r".equals(mode), "rws".equals(mode) || "rwd".equals(mode));
    }

    @Override
    public void delete() {
        DeviceFile device = VolumeFileSystem.mounted(mountName);
        if (device == null || fileName == null) {
            return;
        }
        try {
            device.delete(fileName);
        } catch (IOException e) {
            throw DbException.convertIOException(e, name);
        }
    }

    @Override
    public void moveTo(FilePath newName, boolean atomicReplace) {
        if (!(newName instanceof VolumeFilePath target) || !target.mountName.equals(mountName) || target.fileName == null) {
            throw DbException.get(ErrorCode.FILE_RENAME_FAILED_2, name, newName + " (a file stays on its device)");
        }
        try {
            file().rename(fileName, target.fileName);
        } catch (IOException e) {
            throw DbException.convertIOException(e, name);
        }
    }

    @Override
    public void createDirectory() {
        if (fileName != null) {
            throw DbException.get(ErrorCode.FILE_CREATION_FAILED_1, name + " (directories are mounted devices: rewind:<mountName>)");
        }
        if (!VolumeFileSystem.isMounted(mountName)) {
            throw DbException.get(ErrorCode.FILE_CREATION_FAILED_1, name + " (no device is mounted as " + mountName
                    + "; mount one with VolumeFileSystem.mount; mounted: " + VolumeFileSystem.mountNames() + ")");
        }
    }

    @Override
    public VolumeFilePath getParent() {
        return fileName == null ? null : new VolumeFilePath(mountName, null);
    }

    @Override
    public VolumeFilePath toRealPath() {
        return this;
    }

    @Override
    public boolean isAbsolute() {
        return true;
    }

    @Override
    public long lastModified() {
        return 0;
    }

    @Override
    public boolean canWrite() {
        return true;
    }

    @Override
    public boolean setReadOnly() {
        return false;
    }

    /** The device this file path is on; an error naming the mounts when the path is not a file on a mounted device. */
    private DeviceFile file() throws IOException {
        if (fileName == null || fileName.isEmpty() || fileName.contains("/")) {
            throw new IOException(name + " is not a file path: use rewind:<mountName>/<fileName>");
        }
        DeviceFile device = VolumeFileSystem.mounted(mountName);
        if (device == null) {
            throw new IOException("no device is mounted as " + mountName + " (for " + name + "); mounted: " + VolumeFileSystem.mountNames());
        }
        return device;
    }
}
