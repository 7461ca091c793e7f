package dev.rewind.volumeset.pv;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** Size of a file or a block device. */
public final class Devices {
    private Devices() {
    }

    public static boolean isBlockDevice(Path path) {
        return Files.exists(path) && !Files.isRegularFile(path) && !Files.isDirectory(path);
    }

    public static long sizeBytes(Path path, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size == 0 && isBlockDevice(path)) {
            Path real = path.toRealPath();
            Path sys = Path.of("/sys/class/block", real.getFileName().toString(), "size");
            if (Files.exists(sys)) {
                return Long.parseLong(Files.readString(sys).trim()) * 512;
            }
            size = channel.position(0).size();
        }
        return size;
    }
}
