package dev.rewind.cli.daemon;

import dev.rewind.volumeset.io.PrivateFiles;
import dev.rewind.volumeset.RewindException;
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
 * One {@code rewind serve} per data dir. Owns {@code serve.lock} in the data dir: an OS file
 * lock (so it goes away with the process, even after {@code kill -9}) on a file that holds the
 * owner's pid as decimal text, for the message a second {@code serve} gets. Taken before the
 * catalog or any set is opened, so two daemons never race for them.
 */
public final class ServeLock implements AutoCloseable {
    static final String FILE = "serve.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private ServeLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock, or refuses with the running daemon's pid. */
    public static ServeLock acquire(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        FileChannel c = PrivateFiles.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = c.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        if (lock == null) {
            c.close();
            String holder = Files.readString(file, StandardCharsets.US_ASCII).trim();
            String pid = holder.matches("\\d{1,19}") ? "pid " + holder : "another process";
            throw new RewindException("rewind serve is already running for " + dataDir + " (" + pid + "); use it, or stop it first"
                    + (holder.matches("\\d{1,19}") ? " (kill " + holder + ")" : ""));
        }
        c.truncate(0);
        c.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII)), 0);
        c.force(false);
        return new ServeLock(c, lock);
    }

    @Override
    public void close() throws IOException {
        if (lock.isValid()) {
            lock.release();
        }
        channel.close();
    }
}
