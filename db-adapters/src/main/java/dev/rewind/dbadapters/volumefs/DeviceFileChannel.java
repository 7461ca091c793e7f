package dev.rewind.dbadapters.volumefs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import org.h2.store.fs.FileBase;

/**
 * The {@link FileChannel} H2 reads and writes a {@link DeviceFile} through. Positional I/O
 * goes straight to the file; {@link #force} flushes the block device. Locks are granted
 * without checking: one process owns a captured set, and its lock guards the devices.
 */
final class DeviceFileChannel extends FileBase {
    private final DeviceFile file;
    private final boolean writable;
    private final boolean syncWrites;
    private long positionBytes;

    DeviceFileChannel(DeviceFile file, boolean writable, boolean syncWrites) {
        this.file = file;
        this.writable = writable;
        this.syncWrites = syncWrites;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        checkOpen();
        checkPosition(position);
        return file.read(position, dst);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        checkWritable();
        checkPosition(position);
        int n = file.write(position, src);
        if (syncWrites) {
            file.flush();
        }
        return n;
    }

    @Override
    public synchronized int read(ByteBuffer dst) throws IOException {
        int n = read(dst, positionBytes);
        if (n > 0) {
            positionBytes += n;
        }
        return n;
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
        int n = write(src, positionBytes);
        positionBytes += n;
        return n;
    }

    @Override
    public synchronized long position() throws IOException {
        checkOpen();
        return positionBytes;
    }

    @Override
    public synchronized FileChannel position(long newPosition) throws IOException {
        checkOpen();
        checkPosition(newPosition);
        positionBytes = newPosition;
        return this;
    }

    @Override
    public long size() throws IOException {
        checkOpen();
        return file.size();
    }

    @Override
    public synchronized FileChannel truncate(long size) throws IOException {
        checkWritable();
        checkPosition(size);
        file.truncate(size);
        if (syncWrites) {
            file.flush();
        }
        positionBytes = Math.min(positionBytes, size);
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        checkOpen();
        file.flush();
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        checkOpen();
        return new GrantedLock(this, position, size, shared);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() {
        file.channelClosed();
    }

    private void checkOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    private void checkWritable() throws ClosedChannelException {
        checkOpen();
        if (!writable) {
            throw new NonWritableChannelException();
        }
    }

    private static void checkPosition(long position) {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
    }

    /** A lock that is valid until released or its channel is closed. */
    private static final class GrantedLock extends FileLock {
        private volatile boolean released;

        GrantedLock(FileChannel channel, long position, long size, boolean shared) {
            super(channel, position, size, shared);
        }

        @Override
        public boolean isValid() {
            return !released && channel().isOpen();
        }

        @Override
        public void release() {
            released = true;
        }
    }
}
