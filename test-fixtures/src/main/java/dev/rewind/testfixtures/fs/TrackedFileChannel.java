package dev.rewind.testfixtures.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * A file (or directory) opened on a {@link PowerLossDisk}: reads go straight to the real file;
 * writes and truncates are recorded as not yet durable before they reach it; {@code force}
 * makes them durable in the disk's model (or fails, as the fault plan says). After a power
 * cut every operation but {@code close} fails.
 */
final class TrackedFileChannel extends FileChannel {
    private final PowerLossDisk disk;
    private final Path path;
    private final FileChannel delegate;
    private final long identity;
    private final boolean directory;
    private final int generation;

    TrackedFileChannel(PowerLossDisk disk, Path path, FileChannel delegate, long identity, boolean directory, int generation) {
        this.disk = disk;
        this.path = path;
        this.delegate = delegate;
        this.identity = identity;
        this.directory = directory;
        this.generation = generation;
    }

    Path path() {
        return path;
    }

    long identity() {
        return identity;
    }

    boolean isDirectory() {
        return directory;
    }

    FileChannel delegate() {
        return delegate;
    }

    void checkAlive() throws IOException {
        if (generation != disk.generation()) {
            throw new IOException("Input/output error (the power was lost; " + path + " must be opened again)");
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        checkAlive();
        return delegate.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        checkAlive();
        return delegate.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        checkAlive();
        return delegate.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        synchronized (disk) {
            disk.beforeWrite(this, delegate.position(), src.remaining());
            return delegate.write(src);
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += srcs[i].remaining();
        }
        synchronized (disk) {
            disk.beforeWrite(this, delegate.position(), total);
            return delegate.write(srcs, offset, length);
        }
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        synchronized (disk) {
            disk.beforeWrite(this, position, src.remaining());
            return delegate.write(src, position);
        }
    }

    @Override
    public long position() throws IOException {
        checkAlive();
        return delegate.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        checkAlive();
        delegate.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        checkAlive();
        return delegate.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        synchronized (disk) {
            disk.beforeTruncate(this, size);
            delegate.truncate(size);
        }
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        disk.force(this);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        checkAlive();
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(count, 1 << 20));
        int n = delegate.read(b, position);
        if (n <= 0) {
            return 0;
        }
        b.flip();
        return target.write(b);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(count, 1 << 20));
        int n = src.read(b);
        if (n <= 0) {
            return 0;
        }
        b.flip();
        return write(b, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        checkAlive();
        if (mode != MapMode.READ_ONLY) {
            throw new UnsupportedOperationException("writable mappings are not tracked by the power-loss file system");
        }
        return delegate.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        checkAlive();
        return delegate.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        checkAlive();
        return delegate.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        delegate.close();
    }
}
