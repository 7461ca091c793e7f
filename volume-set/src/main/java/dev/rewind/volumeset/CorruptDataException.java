package dev.rewind.volumeset;

import java.nio.file.Path;

/**
 * Stored data failed its checksum or structure check: it is refused, never returned.
 * Names the file, the offset and what was expected and found.
 */
public class CorruptDataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offsetBytes;

    public CorruptDataException(Path file, long offsetBytes, String what) {
        super("corrupt data in " + file + " at offset " + offsetBytes + ": " + what);
        this.file = file;
        this.offsetBytes = offsetBytes;
    }

    public static CorruptDataException checksum(Path file, long offsetBytes, int expected, int actual) {
        return new CorruptDataException(file, offsetBytes,
                String.format("CRC32C expected %08x, found %08x", expected, actual));
    }

    public Path file() {
        return file;
    }

    public long offsetBytes() {
        return offsetBytes;
    }
}
