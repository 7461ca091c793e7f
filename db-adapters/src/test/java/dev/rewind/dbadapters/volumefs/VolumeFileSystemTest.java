package dev.rewind.dbadapters.volumefs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.RewindException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.NonWritableChannelException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.h2.message.DbException;
import org.h2.store.fs.FilePath;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The file layer through H2's FilePath API, on a device in memory. */
class VolumeFileSystemTest {
    private static final String MOUNT = "unit-dev";
    private static final String FILE = "rewind:unit-dev/db.mv.db";
    private static final int DEVICE_BYTES = 64 << 10;

    private MemoryBlockDevice device;

    @BeforeEach
    void mount() throws IOException {
        device = new MemoryBlockDevice("m0", DEVICE_BYTES);
        VolumeFileSystem.mount(MOUNT, device);
    }

    @AfterEach
    void unmount() {
        VolumeFileSystem.unmount(MOUNT);
    }

    @Test
    void emptyDeviceIsAnExistingDirectoryWithoutFiles() {
        FilePath dir = FilePath.get("rewind:unit-dev");
        assertTrue(dir.exists());
        assertTrue(dir.isDirectory());
        assertEquals(List.of(), dir.newDirectoryStream());
        assertFalse(FilePath.get(FILE).exists());
        assertEquals("rewind:unit-dev", FilePath.get(FILE).getParent().toString());
    }

    @Test
    void writtenBytesReadBackAfterRemount() throws IOException {
        byte[] data = "hello, journaled world".getBytes(StandardCharsets.UTF_8);
        try (FileChannel c = FilePath.get(FILE).open("rw")) {
            assertEquals(data.length, c.write(ByteBuffer.wrap(data), 1000));
            assertEquals(1000 + data.length, c.size());
        }
        VolumeFileSystem.unmount(MOUNT);
        VolumeFileSystem.mount(MOUNT, device);

        FilePath file = FilePath.get(FILE);
        assertTrue(file.isRegularFile());
        assertEquals(1000 + data.length, file.size());
        assertEquals(List.of(FILE), FilePath.get("rewind:unit-dev").newDirectoryStream().stream().map(FilePath::toString).toList());
        try (FileChannel c = file.open("r")) {
            ByteBuffer got = ByteBuffer.allocate(data.length);
            assertEquals(data.length, c.read(got, 1000));
            assertArrayEquals(data, got.array());
        }
        assertArrayEquals(data, Arrays.copyOfRange(device.bytes, 4096 + 1000, 4096 + 1000 + data.length), "content starts at 4096");
    }

    @Test
    void directoryListingWorksThroughH2sWrappingFileSystems() {
        FilePath.get(FILE).createFile();
        List<FilePath> files = FilePath.get("retry:rewind:unit-dev").newDirectoryStream();
        assertEquals(List.of("retry:" + FILE), files.stream().map(FilePath::toString).toList());
    }

    @Test
    void headerIsRewrittenWhenLengthChanges() throws IOException {
        try (FileChannel c = FilePath.get(FILE).open("rw")) {
            c.write(ByteBuffer.allocate(5000), 0);
            assertEquals(Optional.of(new DeviceFileHeader("db.mv.db", 5000)), DeviceFileHeader.readFrom(device));
            c.truncate(100);
            assertEquals(Optional.of(new DeviceFileHeader("db.mv.db", 100)), DeviceFileHeader.readFrom(device));
            c.truncate(7000);
            assertEquals(100, c.size(), "truncate never grows a file");
        }
    }

    @Test
    void readAtOrPastTheEndReturnsMinusOne() throws IOException {
        try (FileChannel c = FilePath.get(FILE).open("rw")) {
            c.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
            ByteBuffer dst = ByteBuffer.allocate(10);
            assertEquals(3, c.read(dst, 0), "a read stops at the end of the file");
            assertEquals(-1, c.read(ByteBuffer.allocate(10), 3));
            assertEquals(-1, c.read(ByteBuffer.allocate(10), 500));
        }
    }

    @Test
    void gapBeforeAWritePastTheEndReadsAsZeros() throws IOException {
        try (FileChannel c = FilePath.get(FILE).open("rw")) {
            byte[] ones = new byte[100];
            Arrays.fill(ones, (byte) 1);
            c.write(ByteBuffer.wrap(ones), 0);
            c.truncate(10);
            c.write(ByteBuffer.wrap(new byte[] {9}), 50);
            ByteBuffer got = ByteBuffer.allocate(51);
            assertEquals(51, c.read(got, 0));
            byte[] expected = new byte[51];
            Arrays.fill(expected, 0, 10, (byte) 1);
            expected[50] = 9;
            assertArrayEquals(expected, got.array());
        }
    }

    @Test
    void writePastTheDeviceIsDeviceFull() throws IOException {
        try (FileChannel c = FilePath.get(FILE).open("rw")) {
            long capacity = DEVICE_BYTES - 4096;
            c.write(ByteBuffer.allocate(10), capacity - 10);
            assertEquals(capacity, c.size());
            long seq = device.lastSeq();
            IOException e = assertThrows(IOException.class, () -> c.write(ByteBuffer.allocate(11), capacity - 10));
            assertTrue(e.getMessage().contains("device full") && e.getMessage().contains("m0"), e.getMessage());
            assertEquals(seq, device.lastSeq(), "a refused write writes nothing");
        }
    }

    @Test
    void secondFileOnTheDeviceIsRefusedNamingTheDevice() throws IOException {
        assertTrue(FilePath.get(FILE).createFile());
        assertFalse(FilePath.get(FILE).createFile(), "it exists");
        DbException e = assertThrows(DbException.class, () -> FilePath.get("rewind:unit-dev/db.trace.db").createFile());
        assertTrue(e.getMessage().contains("device m0") && e.getMessage().contains("holds db.mv.db"), e.getMessage());
        assertThrows(IOException.class, () -> FilePath.get("rewind:unit-dev/db.lock.db").open("rw"));
    }

    @Test
    void readOnlyOpenOfAMissingFileFailsAndReadOnlyChannelRefusesWrites() throws IOException {
        assertThrows(FileNotFoundException.class, () -> FilePath.get(FILE).open("r"));
        FilePath.get(FILE).createFile();
        try (FileChannel c = FilePath.get(FILE).open("r")) {
            assertThrows(NonWritableChannelException.class, () -> c.write(ByteBuffer.allocate(1), 0));
        }
    }

    @Test
    void forceFlushesTheDevice() throws IOException {
        try (FileChannel c = FilePath.get(FILE).open("rw")) {
            c.write(ByteBuffer.allocate(10), 0);
            int before = device.flushes();
            c.force(true);
            assertEquals(before + 1, device.flushes());
        }
    }

    @Test
    void deleteLeavesTheDeviceEmpty() throws IOException {
        try (FileChannel c = FilePath.get(FILE).open("rw")) {
            c.write(ByteBuffer.wrap(new byte[] {7}), 0);
        }
        FilePath.get(FILE).delete();
        assertFalse(FilePath.get(FILE).exists());
        assertEquals(Optional.empty(), DeviceFileHeader.readFrom(device));
        assertTrue(FilePath.get("rewind:unit-dev/other.mv.db").createFile(), "an empty device takes a new file");
    }

    @Test
    void renameStaysOnTheDevice() {
        FilePath.get(FILE).createFile();
        FilePath.get(FILE).moveTo(FilePath.get("rewind:unit-dev/new.mv.db"), true);
        assertTrue(FilePath.get("rewind:unit-dev/new.mv.db").exists());
        assertFalse(FilePath.get(FILE).exists());
    }

    @Test
    void unmountWhileTheFileIsOpenIsRefused() throws IOException {
        try (FileChannel c = FilePath.get(FILE).open("rw")) {
            RewindException e = assertThrows(RewindException.class, () -> VolumeFileSystem.unmount(MOUNT));
            assertTrue(e.getMessage().contains("still has its file open"), e.getMessage());
        }
        assertThrows(RewindException.class, () -> VolumeFileSystem.mount(MOUNT, device), "the name is taken");
    }
}
