package dev.rewind.volumeset.pv;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * The label at the start of every physical volume. It lets Rewind refuse a renamed
 * or swapped device instead of writing over it.
 *
 * <pre>
 * offset  size  field
 *      0     8  magic "RWNDPV" 0x00 0x01
 *      8     4  version (1)
 *     12     4  label length in bytes (4096)
 *     16    16  PV UUID (most, least significant)
 *     32     8  device size in bytes when labelled
 *     40     8  data offset in bytes (extents start here)
 *     48    64  PV name, UTF-8, zero padded
 *    112     4  CRC32C of bytes [0, 112)
 * </pre>
 * All integers are big-endian. The rest of the first {@link #DATA_OFFSET_BYTES} is reserved.
 */
public record PhysicalVolumeLabel(UUID uuid, String name, long deviceSizeBytes, long dataOffsetBytes) {

    public static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'P', 'V', 0, 1};
    public static final int VERSION = 1;
    public static final int LABEL_LENGTH = 4096;
    public static final long DATA_OFFSET_BYTES = 1L << 20;
    public static final int MAX_NAME_BYTES = 64;
    private static final int CRC_OFFSET = 112;

    public PhysicalVolumeLabel {
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new RewindException("PV name '" + name + "' is longer than " + MAX_NAME_BYTES + " bytes");
        }
    }

    public void writeTo(FileChannel channel) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(LABEL_LENGTH).order(ByteOrder.BIG_ENDIAN);
        buf.put(MAGIC).putInt(VERSION).putInt(LABEL_LENGTH)
                .putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits())
                .putLong(deviceSizeBytes).putLong(dataOffsetBytes);
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        buf.put(nameBytes).position(48 + MAX_NAME_BYTES);
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, CRC_OFFSET);
        buf.putInt(CRC_OFFSET, (int) crc.getValue());
        buf.clear();
        while (buf.hasRemaining()) {
            channel.write(buf, buf.position());
        }
        channel.force(true);
    }

    /** Reads the label, or returns null if the device carries no Rewind label at all. */
    public static PhysicalVolumeLabel readFrom(FileChannel channel, Path path) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(LABEL_LENGTH).order(ByteOrder.BIG_ENDIAN);
        while (buf.hasRemaining()) {
            if (channel.read(buf, buf.position()) < 0) {
                break;
            }
        }
        if (buf.position() < CRC_OFFSET + 4) {
            return null;
        }
        byte[] magic = new byte[MAGIC.length];
        buf.get(0, magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 0, CRC_OFFSET);
        int expected = buf.getInt(CRC_OFFSET);
        if (expected != (int) crc.getValue()) {
            throw new CorruptDataException(path, 0, String.format("PV label is damaged: CRC32C expected %08x, found %08x",
                    expected, (int) crc.getValue()));
        }
        int version = buf.getInt(8);
        if (version != VERSION) {
            throw new CorruptDataException(path, 8, "PV label version " + version + ", this Rewind reads " + VERSION);
        }
        UUID uuid = new UUID(buf.getLong(16), buf.getLong(24));
        long size = buf.getLong(32);
        long dataOffset = buf.getLong(40);
        byte[] nameBytes = new byte[MAX_NAME_BYTES];
        buf.get(48, nameBytes);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) {
            len++;
        }
        return new PhysicalVolumeLabel(uuid, new String(nameBytes, 0, len, StandardCharsets.UTF_8), size, dataOffset);
    }
}
