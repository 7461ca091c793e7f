package dev.rewind.cli.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.RewindException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeLockTest {
    @TempDir
    Path data;

    @Test
    void aSecondLockIsRefusedWithTheHoldersPidUntilTheFirstIsClosed() throws Exception {
        long pid = ProcessHandle.current().pid();
        try (ServeLock first = ServeLock.acquire(data)) {
            assertEquals(Long.toString(pid), Files.readString(data.resolve(ServeLock.FILE)));
            RewindException e = assertThrows(RewindException.class, () -> ServeLock.acquire(data));
            assertTrue(e.getMessage().contains("already running for " + data + " (pid " + pid + ")"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
        try (ServeLock again = ServeLock.acquire(data)) {
            assertEquals(Long.toString(pid), Files.readString(data.resolve(ServeLock.FILE)), "a stale pid is overwritten");
        }
    }
}
