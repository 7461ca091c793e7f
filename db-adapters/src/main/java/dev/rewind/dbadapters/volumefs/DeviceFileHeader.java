package dev.rewind.dbadapters.volumefs;

import dev.rewind.capture.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Block 0 of a device that holds one file: the file's name and length. This class owns
 * the on-device format; the file's content follows the header block.
 *
 * <pre>
 * device offset  size  field
 *             0     8  MAGIC          "RWH2FILE" (ASCII)
 *             8     4  VERSION        1
 *            12     8  lengthBytes    file length, 0 .. device size - CONTENT_OFFSET
 *            20     2  nameBytes      N, length of the UTF-8 file name, 1 .. MAX_NAME_BYTES
 *            22     N  name           UTF-8
 *        22 + N     .  zeros
 *          4092     4  CRC32C         of device bytes 0 .. 4091
 *          4096     .  file content   (CONTENT_OFFSET), lengthBytes bytes
 * </pre>
 *
 * <p>A block 0 of only zeros holds no file. Any other block 0 must carry the magic, the
 * version and a matching CRC32C, checked on every read, or it is refused with an
 * {@link IOException} naming the device: a damaged header is never taken for an empty device.
 */
record DeviceFileHeader(String fileName, long lengthBytes) {
    static final int BLOCK_BYTES = 4096;
    static final long CONTENT_OFFSET = BLOCK_BYTES;
    static final long MAGIC = 0x5257_4832_4649_4C45L; // "RWH2FILE"
    static final int VERSION = 1;
    static final int MAX_NAME_BYTES = 1024;

    private static final int MAGIC_OFFSET = 0;
    private static final int VERSION_OFFSET = 8;
    private static final int LENGTH_OFFSET = 12;
    private static final int NAME_LENGTH_OFFSET = 20;
    private static final int NAME_OFFSET = 22;
    private static final int CRC_OFFSET = BLOCK_BYTES - 4;

    DeviceFileHeader {
        int nameBytes = fileName.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes == 0 || nameBytes > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("file name must be 1.." + MAX_NAME_BYTES + " UTF-8 bytes, not " + nameBytes);
        }
        if (lengthBytes < 0) {
            throw new IllegalArgumentException("negative file length " + lengthBytes);
        }
    }

    /** The most file content {@code device} can hold. */
    static long capacityBytes(BlockDevice device) {
        return device.sizeBytes() - CONTENT_OFFSET;
    }

    DeviceFileHeader withLength(long newLengthBytes) {
        return new DeviceFileHeader(fileName, newLengthBytes);
    }

    DeviceFileHeader withName(String newFileName) {
        return new DeviceFileHeader(newFileName, lengthBytes);
    }

    /** Reads and checks block 0: empty when it is all zeros, the header when it is valid, else an IOException. */
    static Optional<DeviceFileHeader> readFrom(BlockDevice device) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(BLOCK_BYTES);
        device.read(0, block);
        block.clear();
        if (isAllZeros(block)) {
            return Optional.empty();
        }
        long magic = block.getLong(MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw refused(device, String.format("bad magic %016x (expected %016x): block 0 holds something else", magic, MAGIC));
        }
        int expectedCrc = block.getInt(CRC_OFFSET);
        int actualCrc = crcOf(block);
        if (expectedCrc != actualCrc) {
            throw refused(device, String.format("header CRC32C mismatch at offset 0: stored %08x, computed %08x", expectedCrc, actualCrc));
        }
        int version = block.getInt(VERSION_OFFSET);
        if (version != VERSION) {
            throw refused(device, "unsupported header version " + version + " (this build reads version " + VERSION + ")");
        }
        long lengthBytes = block.getLong(LENGTH_OFFSET);
        if (lengthBytes < 0 || lengthBytes > capacityBytes(device)) {
            throw refused(device, "file length " + lengthBytes + " is outside 0.." + capacityBytes(device));
        }
        int nameBytes = Short.toUnsignedInt(block.getShort(NAME_LENGTH_OFFSET));
        if (nameBytes == 0 || nameBytes > MAX_NAME_BYTES) {
            throw refused(device, "file name length " + nameBytes + " is outside 1.." + MAX_NAME_BYTES);
        }
        return Optional.of(new DeviceFileHeader(decodeName(device, block.slice(NAME_OFFSET, nameBytes)), lengthBytes));
    }

    /** Writes this header into block 0 (journaled like every write to the device). */
    void writeTo(BlockDevice device) throws IOException {
        byte[] name = fileName.getBytes(StandardCharsets.UTF_8);
        ByteBuffer block = ByteBuffer.allocate(BLOCK_BYTES);
        block.putLong(MAGIC_OFFSET, MAGIC)
                .putInt(VERSION_OFFSET, VERSION)
                .putLong(LENGTH_OFFSET, lengthBytes)
                .putShort(NAME_LENGTH_OFFSET, (short) name.length)
                .put(NAME_OFFSET, name);
        block.putInt(CRC_OFFSET, crcOf(block));
        device.write(0, block, false);
    }

    /** Zeros block 0: the device holds no file any more. */
    static void eraseFrom(BlockDevice device) throws IOException {
        device.writeZeroes(0, BLOCK_BYTES, false);
    }

    private static int crcOf(ByteBuffer block) {
        CRC32C crc = new CRC32C();
        crc.update(block.slice(0, CRC_OFFSET));
        return (int) crc.getValue();
    }

    private static boolean isAllZeros(ByteBuffer block) {
        for (int i = 0; i < BLOCK_BYTES; i += Long.BYTES) {
            if (block.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }

    private static String decodeName(BlockDevice device, ByteBuffer name) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(name)
                    .toString();
        } catch (CharacterCodingException e) {
            throw refused(device, "file name is not valid UTF-8");
        }
    }

    private static IOException refused(BlockDevice device, String what) {
        return new IOException("device " + device.name() + " has a damaged or foreign file header in block 0: " + what
                + "; refusing to use it (restore the device or mount the right one)");
    }
}
