package dev.rewind.testfixtures.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The power-loss file system itself: what a cut keeps and what it throws away. */
class PowerLossDiskPowerLossTest {
    @TempDir
    Path tmp;
    PowerLossDisk disk;

    @BeforeEach
    void track() throws IOException {
        disk = PowerLossFileSystemProvider.installed().track(tmp);
    }

    @AfterEach
    void untrack() {
        if (disk != null) {
            disk.close();
        }
    }

    private void cut() throws IOException {
        disk.powerCut(new Random(1), PowerLossDisk.Survival.NONE);
        disk.restart();
    }

    private static void forceDir(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private static void write(FileChannel c, long pos, byte value, int length) throws IOException {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, value);
        c.write(ByteBuffer.wrap(b), pos);
    }

    @Test
    void forcedWritesSurviveAndUnforcedWritesAreLost() throws IOException {
        Path f = tmp.resolve("f");
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            write(c, 0, (byte) 1, 10_000);
            c.force(true);
            forceDir(tmp);
            write(c, 0, (byte) 2, 100);
            write(c, 10_000, (byte) 3, 5000);
            cut();
        }
        byte[] after = Files.readAllBytes(f);
        assertEquals(10_000, after.length);
        for (byte b : after) {
            assertEquals(1, b);
        }
    }

    @Test
    void newFileWithoutDirectoryForceVanishes() throws IOException {
        Path d = tmp.resolve("d");
        Files.createDirectory(d);
        Path f = d.resolve("f");
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            write(c, 0, (byte) 1, 100);
            c.force(true);
        }
        forceDir(d); // but not tmp: d itself is not durable
        cut();
        assertFalse(Files.exists(d));
    }

    @Test
    void renameWithoutDirectoryForceIsUndone() throws IOException {
        Path a = tmp.resolve("a");
        Files.writeString(a, "old");
        try (FileChannel c = FileChannel.open(a, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        forceDir(tmp);
        Path tmpFile = tmp.resolve("a.tmp");
        Files.writeString(tmpFile, "new");
        try (FileChannel c = FileChannel.open(tmpFile, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        Files.move(tmpFile, a, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        cut();
        assertEquals("old", Files.readString(a));
        assertFalse(Files.exists(tmpFile));

        Files.writeString(tmpFile, "new");
        try (FileChannel c = FileChannel.open(tmpFile, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        Files.move(tmpFile, a, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDir(tmp);
        cut();
        assertEquals("new", Files.readString(a));
    }

    @Test
    void aFailedForceLosesTheDirtyPagesEvenIfRetried() throws IOException {
        Path f = tmp.resolve("f");
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        forceDir(tmp);
        disk.injectFaults(new FaultPlan(p -> p.endsWith("f"), FaultPlan.Operation.FORCE, 1));
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.WRITE)) {
            write(c, 0, (byte) 7, 100);
            assertThrows(IOException.class, () -> c.force(true));
            c.force(true); // succeeds, but the write is not on the disk
        }
        assertEquals(100, Files.size(f), "a failed force leaves the page cache as it was");
        cut();
        assertEquals(100, Files.size(f), "the size was made durable by the second force");
        assertArrayEquals(new byte[100], Files.readAllBytes(f));
    }

    @Test
    void channelsOpenedBeforeTheCutFailAndNothingChangesUntilRestart() throws IOException {
        Path f = tmp.resolve("f");
        FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        forceDir(tmp);
        disk.powerCut(new Random(1), PowerLossDisk.Survival.NONE);
        assertThrows(IOException.class, () -> write(c, 0, (byte) 1, 1));
        assertThrows(IOException.class, () -> Files.createFile(tmp.resolve("g")));
        c.close();
        disk.restart();
        assertTrue(Files.exists(f));
        assertFalse(Files.exists(tmp.resolve("g")));
    }

    @Test
    void someUnforcedPagesMayReachTheDiskWholeOrTorn() throws IOException {
        Path f = tmp.resolve("f");
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            write(c, 0, (byte) 1, 64 * 4096);
            c.force(true);
            forceDir(tmp);
            write(c, 0, (byte) 2, 64 * 4096);
            disk.powerCut(new Random(42), PowerLossDisk.Survival.SOME_PAGES);
            disk.restart();
        }
        byte[] after = Files.readAllBytes(f);
        int ones = 0;
        int twos = 0;
        for (byte b : after) {
            ones += b == 1 ? 1 : 0;
            twos += b == 2 ? 1 : 0;
        }
        assertEquals(after.length, ones + twos);
        assertTrue(ones > 0 && twos > 0, "with 64 dirty pages some are lost and some written: " + ones + " / " + twos);
    }
}
