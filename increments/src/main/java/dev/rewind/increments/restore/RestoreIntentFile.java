package dev.rewind.increments.restore;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.io.StableFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The {@code restore-intent} file in a set's secondary directory: present exactly while a
 * restore in place has started writing and not finished. It is written durably before the
 * restore's first write and removed durably after its last one, so an interrupted restore
 * (kill -9, power loss) is found at the next open.
 *
 * <pre>
 * restore-intent (little-endian, 60 bytes)
 *    0  8  magic "RWNDRIN1"
 *    8  4  version (1)
 *   12  4  reserved (0)
 *   16  8  target seq
 *   24  8  head seq when the restore started
 *   32  8  first restore seq (head + 1: the restore's own writes follow the head)
 *   40  8  bytes the restore planned to rewrite
 *   48  8  start time, microseconds since the epoch
 *   56  4  CRC32C of [0, 56)
 * </pre>
 *
 * Replaced atomically: written to {@code restore-intent.tmp}, forced, renamed over the old
 * file, then the directory is forced. Removal forces the directory too.
 */
final class RestoreIntentFile {
    static final String FILE = "restore-intent";
    static final String TEMP_FILE = FILE + ".tmp";
    static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'R', 'I', 'N', '1'};
    static final int VERSION = 1;
    static final int OFFSET_TARGET_SEQ = 16;
    static final int OFFSET_HEAD_SEQ = 24;
    static final int OFFSET_FIRST_RESTORE_SEQ = 32;
    static final int OFFSET_PLANNED_BYTES = 40;
    static final int OFFSET_STARTED_AT = 48;
    static final int OFFSET_CRC = 56;
    static final int FILE_BYTES = OFFSET_CRC + 4;

    private RestoreIntentFile() {
    }

    /** The intent recorded in {@code secondaryDir}, if a restore in place is unfinished; checks magic, version and CRC32C. */
    static Optional<RestoreIntent> read(Path secondaryDir) throws IOException {
        Path file = secondaryDir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length != FILE_BYTES) {
            throw new CorruptDataException(file, 0, "restore intent is " + bytes.length + " bytes, expected " + FILE_BYTES);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (!Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new CorruptDataException(file, 0, "not a restore intent (bad magic)");
        }
        if (b.getInt(8) != VERSION) {
            throw new CorruptDataException(file, 8, "restore intent version " + b.getInt(8) + ", expected " + VERSION);
        }
        int expected = b.getInt(OFFSET_CRC);
        int actual = crc(bytes);
        if (expected != actual) {
            throw CorruptDataException.checksum(file, OFFSET_CRC, expected, actual);
        }
        try {
            return Optional.of(new RestoreIntent(b.getLong(OFFSET_TARGET_SEQ), b.getLong(OFFSET_HEAD_SEQ),
                    b.getLong(OFFSET_FIRST_RESTORE_SEQ), b.getLong(OFFSET_PLANNED_BYTES),
                    b.getLong(OFFSET_STARTED_AT)));
        } catch (IllegalArgumentException e) {
            throw new CorruptDataException(file, OFFSET_TARGET_SEQ, e.getMessage());
        }
    }

    /** Records {@code intent} durably, replacing any earlier one. */
    static void write(Path secondaryDir, RestoreIntent intent) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(FILE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(VERSION).putInt(0);
        b.putLong(OFFSET_TARGET_SEQ, intent.targetSeq());
        b.putLong(OFFSET_HEAD_SEQ, intent.headSeqAtStart());
        b.putLong(OFFSET_FIRST_RESTORE_SEQ, intent.firstRestoreSeq());
        b.putLong(OFFSET_PLANNED_BYTES, intent.plannedBytes());
        b.putLong(OFFSET_STARTED_AT, intent.startedAtMicros());
        b.putInt(OFFSET_CRC, crc(b.array()));
        b.clear();
        Path temp = secondaryDir.resolve(TEMP_FILE);
        try (FileChannel c = StableFileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (b.hasRemaining()) {
                c.write(b, b.position());
            }
            c.force(true);
        }
        Files.move(temp, secondaryDir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(secondaryDir);
    }

    /** Records durably that no restore in place is unfinished. */
    static void remove(Path secondaryDir) throws IOException {
        if (Files.deleteIfExists(secondaryDir.resolve(FILE))) {
            forceDirectory(secondaryDir);
        }
    }

    private static int crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, OFFSET_CRC);
        return (int) crc.getValue();
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = StableFileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
