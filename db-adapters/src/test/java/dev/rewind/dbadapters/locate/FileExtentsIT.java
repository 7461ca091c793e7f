package dev.rewind.dbadapters.locate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.tools.Tools;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileExtents} against the real kernel: an ext4 image file is loop-mounted, a file
 * is written in pieces (so it has several extents) and synced, and the bytes at the device
 * offsets FIEMAP gives, read from the image file itself, must be the file's bytes.
 */
class FileExtentsIT {
    private static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void physicalOffsetsHoldTheFilesBytesOnTheDevice() throws Exception {
        Tools.requireRoot("loop-mounting an ext4 image");
        Tools.require("filefrag", "e2fsprogs");
        Tools.require("mkfs.ext4", "e2fsprogs");
        Path image = tmp.resolve("fs.img");
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(32L << 20);
        }
        Tools.run(T, "mkfs.ext4", "-q", "-F", "-b", "4096", image.toString()).assertOk();
        Tools.run(T, "mount", "-o", "loop", image.toString(), mnt.toString()).assertOk();
        byte[] content = new byte[3 << 20];
        try {
            Random r = new Random(Seeds.of(0xF1E7L).findFirst().getAsLong());
            r.nextBytes(content);
            Path file = mnt.resolve("wal-segment");
            Path other = mnt.resolve("other");
            for (int piece = 0; piece < 3; piece++) { // interleaved with another file: several extents
                Files.write(file, Arrays.copyOfRange(content, piece << 20, (piece + 1) << 20),
                        piece == 0 ? new java.nio.file.OpenOption[0] : new java.nio.file.OpenOption[] {java.nio.file.StandardOpenOption.APPEND});
                Tools.run(T, "sync", file.toString()).assertOk();
                Files.write(other, new byte[64 << 10], java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                Tools.run(T, "sync", other.toString()).assertOk();
            }
            Tools.run(T, "sync").assertOk();
            FileExtents extents = FileExtents.of(file);
            long[] offsets = {0, 4096, 1000, (1 << 20) - 100, (1 << 20) + 7, (3 << 20) - 4096};
            try (RandomAccessFile img = new RandomAccessFile(image.toFile(), "r")) {
                for (long offset : offsets) {
                    int length = (int) Math.min(4096 - offset % 4096, content.length - offset);
                    long physical = extents.physicalOffset(offset, length);
                    byte[] onDevice = new byte[length];
                    img.seek(physical);
                    img.readFully(onDevice);
                    assertArrayEquals(Arrays.copyOfRange(content, (int) offset, (int) offset + length), onDevice,
                            "file byte " + offset + " at device byte " + physical + ", extents " + extents.extents());
                }
            }
        } finally {
            Tools.run(T, "umount", mnt.toString());
        }
    }
}
