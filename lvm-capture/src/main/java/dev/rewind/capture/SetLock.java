package dev.rewind.capture;

import dev.rewind.volumeset.io.PrivateFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One process at a time opens a set for capture or restore. The lock is an OS file lock
 * on {@code set.lock} in the secondary directory, so it goes away with the process
 * (even after {@code kill -9}); the file names the holder's pid for the error message.
 */
final class SetLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private SetLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static SetLock acquire(String setName, Path secondaryDir) throws IOException {
        Path file = secondaryDir.resolve("set.lock");
        FileChannel c = PrivateFiles.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = c.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            c.close();
            String holder = Files.readString(file, StandardCharsets.UTF_8).trim();
            throw new SetInUseException("set " + setName + " is in use by " + (holder.isEmpty() ? "another process" : "process " + holder)
                    + "; stop it (or its rewind serve) first");
        }
        c.truncate(0);
        c.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
        return new SetLock(c, lock);
    }

    @Override
    public void close() throws IOException {
        if (lock.isValid()) {
            lock.release();
        }
        channel.close();
    }
}
