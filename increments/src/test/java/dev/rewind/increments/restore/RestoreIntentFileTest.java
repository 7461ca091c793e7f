package dev.rewind.increments.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The restore intent file: written, read back, replaced, removed; any damaged byte is refused with its place. */
class RestoreIntentFileTest {
    @TempDir
    Path dir;

    private static final RestoreIntent INTENT = new RestoreIntent(41, 130, 131, 16_384, 1_700_000_000_123_456L);

    @Test
    void noFileMeansNoUnfinishedRestore() throws IOException {
        assertEquals(Optional.empty(), RestoreIntentFile.read(dir));
    }

    @Test
    void intentIsReadBackAsWrittenAndReplacedAtomically() throws IOException {
        RestoreIntentFile.write(dir, INTENT);
        assertEquals(Optional.of(INTENT), RestoreIntentFile.read(dir));
        assertEquals(RestoreIntentFile.FILE_BYTES, Files.size(dir.resolve(RestoreIntentFile.FILE)));
        RestoreIntent next = new RestoreIntent(7, 200, 201, 1, 5);
        RestoreIntentFile.write(dir, next);
        assertEquals(Optional.of(next), RestoreIntentFile.read(dir));
        assertFalse(Files.exists(dir.resolve(RestoreIntentFile.TEMP_FILE)), "the temp file was renamed into place");
        RestoreIntentFile.remove(dir);
        assertEquals(Optional.empty(), RestoreIntentFile.read(dir));
        RestoreIntentFile.remove(dir); // removing twice is fine
    }

    @ParameterizedTest(name = "byte {0}")
    @ValueSource(ints = {0, 7, 8, 16, 25, 33, 47, 55, 56, 59})
    void anyFlippedByteIsRefused(int offset) throws IOException {
        RestoreIntentFile.write(dir, INTENT);
        Path file = dir.resolve(RestoreIntentFile.FILE);
        byte[] bytes = Files.readAllBytes(file);
        bytes[offset] ^= 0x20;
        Files.write(file, bytes);
        CorruptDataException e = assertThrows(CorruptDataException.class, () -> RestoreIntentFile.read(dir));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void truncatedFileIsRefused() throws IOException {
        RestoreIntentFile.write(dir, INTENT);
        Path file = dir.resolve(RestoreIntentFile.FILE);
        Files.write(file, java.util.Arrays.copyOf(Files.readAllBytes(file), 30));
        assertThrows(CorruptDataException.class, () -> RestoreIntentFile.read(dir));
    }
}
