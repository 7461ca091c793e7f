package dev.rewind.dbadapters.volumefs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DeviceFileHeaderTest {
    private final MemoryBlockDevice device = new MemoryBlockDevice("m0", 64 << 10);

    @Test
    void allZeroBlockZeroHoldsNoFile() throws IOException {
        assertEquals(Optional.empty(), DeviceFileHeader.readFrom(device));
    }

    @Test
    void headerReadsBackAsWritten() throws IOException {
        DeviceFileHeader h = new DeviceFileHeader("bänk.mv.db", 12345);
        h.writeTo(device);
        assertEquals(Optional.of(h), DeviceFileHeader.readFrom(device));
    }

    @Test
    void everyFlippedBitIsRefused() throws IOException {
        new DeviceFileHeader("bank.mv.db", 12345).writeTo(device);
        for (int bit = 0; bit < DeviceFileHeader.BLOCK_BYTES * 8; bit += 7) {
            device.bytes[bit / 8] ^= (byte) (1 << (bit % 8));
            IOException e = assertThrows(IOException.class, () -> DeviceFileHeader.readFrom(device), "bit " + bit);
            assertTrue(e.getMessage().startsWith("device m0 has a damaged or foreign file header"), e.getMessage());
            device.bytes[bit / 8] ^= (byte) (1 << (bit % 8));
        }
    }

    @Test
    void crcMismatchNamesDeviceAndChecksums() throws IOException {
        new DeviceFileHeader("bank.mv.db", 12345).writeTo(device);
        device.write(30, ByteBuffer.wrap(new byte[] {'X'}), false);
        IOException e = assertThrows(IOException.class, () -> DeviceFileHeader.readFrom(device));
        assertTrue(e.getMessage().contains("device m0") && e.getMessage().contains("CRC32C mismatch"), e.getMessage());
    }

    @Test
    void foreignDataIsRefusedNotTakenForEmpty() {
        device.bytes[100] = 1;
        IOException e = assertThrows(IOException.class, () -> DeviceFileHeader.readFrom(device));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
        assertThrows(IOException.class, () -> VolumeFileSystem.mount("unit-foreign", device), "mount checks the header");
        assertTrue(!VolumeFileSystem.isMounted("unit-foreign"));
    }
}
