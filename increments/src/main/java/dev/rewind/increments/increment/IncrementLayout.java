package dev.rewind.increments.increment;

import static dev.rewind.increments.increment.IncrementFile.CHUNK_BYTES;
import static dev.rewind.increments.increment.IncrementFile.CHUNK_HEADER_BYTES;
import static dev.rewind.increments.increment.IncrementFile.CHUNK_HEADER_CRC_AT;
import static dev.rewind.increments.increment.IncrementFile.CHUNK_MAGIC;
import static dev.rewind.increments.increment.IncrementFile.FOOTER_BYTES;
import static dev.rewind.increments.increment.IncrementFile.FOOTER_CRC_AT;
import static dev.rewind.increments.increment.IncrementFile.FOOTER_MAGIC;
import static dev.rewind.increments.increment.IncrementFile.HEADER_BYTES;
import static dev.rewind.increments.increment.IncrementFile.HEADER_CRC_AT;
import static dev.rewind.increments.increment.IncrementFile.MAGIC;
import static dev.rewind.increments.increment.IncrementFile.VERSION;

import dev.rewind.volumeset.CorruptDataException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;

/**
 * Encodes and decodes the fixed-size parts of an increment file drawn in {@link IncrementFile}:
 * the header, the chunk header and the footer, with their CRC32Cs.
 */
final class IncrementLayout {
    /** Where the footer says the index is, and its CRC32C. */
    record IndexLocation(long offsetBytes, int lengthBytes, int crc) {
    }

    private IncrementLayout() {
    }

    static ByteBuffer encodeHeader(IncrementHeader h) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(HEADER_BYTES)
                .putLong(h.setUuid().getMostSignificantBits()).putLong(h.setUuid().getLeastSignificantBits())
                .putLong(h.transactionId()).putLong(h.firstSeq()).putLong(h.lastSeq()).putInt(h.memberCount())
                .put((byte) h.direction().code()).put((byte) h.codec().code()).putShort((short) 0)
                .putInt(CHUNK_BYTES).putLong(0);
        b.putInt(HEADER_CRC_AT, IncrementFile.crc(b.array(), 0, HEADER_CRC_AT));
        return b.clear();
    }

    /** Decodes and checks a header read from offset 0 of {@code file}. */
    static IncrementHeader decodeHeader(Path file, ByteBuffer b) {
        b.order(ByteOrder.BIG_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptDataException(file, 0, "not an increment file (bad magic)");
        }
        int crc = IncrementFile.crc(b.array(), 0, HEADER_CRC_AT);
        if (crc != b.getInt(HEADER_CRC_AT)) {
            throw CorruptDataException.checksum(file, 0, b.getInt(HEADER_CRC_AT), crc);
        }
        if (b.getInt(8) != VERSION || b.getInt(12) != HEADER_BYTES) {
            throw new CorruptDataException(file, 8, "increment version " + b.getInt(8) + " with a " + b.getInt(12) + "-byte header; this Rewind reads version "
                    + VERSION + ": open it with the Rewind that wrote it");
        }
        IncrementDirection direction = IncrementDirection.ofCode(b.get(60));
        IncrementCodec codec = IncrementCodec.ofCode(b.get(61));
        if (direction == null || codec == null || b.getInt(64) != CHUNK_BYTES) {
            throw new CorruptDataException(file, 60, "unknown direction " + b.get(60) + ", codec " + b.get(61) + " or chunk size " + b.getInt(64));
        }
        try {
            return new IncrementHeader(new UUID(b.getLong(16), b.getLong(24)), b.getLong(32), direction, b.getLong(40), b.getLong(48), b.getInt(56), codec);
        } catch (IllegalArgumentException e) {
            throw new CorruptDataException(file, 0, "header: " + e.getMessage());
        }
    }

    static ByteBuffer chunkHeader(int number, int storedLength, int rawLength, byte flags, int storedCrc, int rawCrc) {
        ByteBuffer b = ByteBuffer.allocate(CHUNK_HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        b.putInt(CHUNK_MAGIC).putInt(number).putInt(storedLength).putInt(rawLength)
                .put(flags).put((byte) 0).putShort((short) 0).putInt(storedCrc).putInt(rawCrc);
        b.putInt(CHUNK_HEADER_CRC_AT, IncrementFile.crc(b.array(), 0, CHUNK_HEADER_CRC_AT));
        return b.clear();
    }

    static ByteBuffer encodeFooter(long indexOffset, long indexLength, int indexCrc) {
        ByteBuffer b = ByteBuffer.allocate(FOOTER_BYTES).order(ByteOrder.BIG_ENDIAN);
        b.putLong(indexOffset).putLong(indexLength).putInt(indexCrc);
        b.putInt(FOOTER_CRC_AT, IncrementFile.crc(b.array(), 0, FOOTER_CRC_AT));
        b.put(FOOTER_CRC_AT + 4, FOOTER_MAGIC);
        return b.clear();
    }

    /**
     * Decodes and checks the footer read from {@code footerAt} (the last bytes of the file):
     * returns where the index is and its CRC32C. The index must lie
     * between the header and the footer and end where the footer starts.
     */
    static IndexLocation decodeFooter(Path file, ByteBuffer b, long footerAt) {
        b.order(ByteOrder.BIG_ENDIAN);
        byte[] magic = new byte[FOOTER_MAGIC.length];
        b.get(FOOTER_CRC_AT + 4, magic);
        if (!Arrays.equals(magic, FOOTER_MAGIC)) {
            throw new CorruptDataException(file, footerAt, "no increment footer at the end of the file: it is truncated or was never finished");
        }
        int crc = IncrementFile.crc(b.array(), 0, FOOTER_CRC_AT);
        if (crc != b.getInt(FOOTER_CRC_AT)) {
            throw CorruptDataException.checksum(file, footerAt, b.getInt(FOOTER_CRC_AT), crc);
        }
        long indexOffset = b.getLong(0);
        long indexLength = b.getLong(8);
        if (indexOffset < HEADER_BYTES || indexLength < IncrementIndex.HEADER_BYTES || indexLength > Integer.MAX_VALUE - 64
                || indexOffset + indexLength != footerAt) {
            throw new CorruptDataException(file, footerAt, "the footer puts the index at " + indexOffset + " (+" + indexLength + "), not between the header and the footer at " + footerAt);
        }
        return new IndexLocation(indexOffset, (int) indexLength, b.getInt(16));
    }
}
