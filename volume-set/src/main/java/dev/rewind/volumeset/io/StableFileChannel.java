package dev.rewind.volumeset.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link FileChannel} that a thread interrupt cannot close: the channel every capture,
 * journal, dirty-region, replica and restore file is read and written through.
 *
 * <p><b>The rule.</b> A JDK {@code FileChannel} is an {@code InterruptibleChannel}: if a thread
 * is interrupted before or while it is inside {@code read}, {@code write}, {@code force},
 * {@code size}, {@code truncate} or {@code map}, the JDK <em>closes the channel for every
 * thread</em> and throws {@code ClosedByInterruptException} (other threads in it get
 * {@code AsynchronousCloseException}, later ones {@code ClosedChannelException}). One interrupted
 * caller (an embedding application, an NBD worker being shut down, a JDBC pool thread) would
 * break the whole set until it is reopened. JDK 17 offers no public way to open a
 * non-interruptible channel ({@code FileChannelImpl.setUninterruptible()} needs
 * {@code --add-opens}; {@code RandomAccessFile.getChannel()} is interruptible too), so this class:
 * <ol>
 *   <li>clears the caller's interrupt flag before each operation, so the JDK never sees a
 *       pending interrupt, and sets it again afterwards: the caller's interrupt status is
 *       preserved, the interrupt is only deferred to the end of the I/O call;</li>
 *   <li>closes the gap where an interrupt arrives <em>during</em> the operation (that still
 *       closes the underlying channel): when the underlying channel turns out closed while this
 *       channel is open, it was an interrupt and not our own {@link #close()}, so the file is
 *       reopened (once, shared by all threads) and the operation is retried. Every operation
 *       offered is positional and idempotent: a retried write puts the same bytes at the same
 *       offset (the buffer's position is reset first), a retried read reads them again.</li>
 * </ol>
 *
 * <p><b>Durability across a reopen.</b> A {@code force} retried on the new descriptor flushes
 * the writes that went through the closed one: {@code fsync} on any descriptor of a file
 * flushes the file's dirty pages, which is what Linux does. A write-back error the old
 * descriptor had not yet reported is reported to the new one too (Linux reports an error no
 * descriptor has seen to descriptors opened after it), so a retried force never claims
 * durability a failed write-back lost. The reopen checks that the path still names the same
 * file (same file key) and fails otherwise.
 *
 * <p><b>Limits.</b> Retrying a write is only correct if no other thread writes the same range
 * at the same time, which the callers already guarantee (concurrent overlapping writes have no
 * defined result on any file). Relative reads and writes use a position this class keeps.
 * {@code APPEND}, {@code DELETE_ON_CLOSE}, file locks and {@code transferTo/From} are not
 * offered: a reopen would lose them silently, so they are refused.
 */
public final class StableFileChannel extends FileChannel {
    private final Path path;
    private final Set<OpenOption> reopenOptions;
    private final Object fileKey;
    private final Object reopenLock = new Object();
    private final Object positionLock = new Object();
    private volatile FileChannel current;
    private long positionBytes;
    private volatile int reopenCount;

    private StableFileChannel(Path path, Set<OpenOption> reopenOptions, Object fileKey, FileChannel first) {
        this.path = path;
        this.reopenOptions = reopenOptions;
        this.fileKey = fileKey;
        this.current = first;
    }

    /** Opens {@code path} like {@link FileChannel#open(Path, OpenOption...)}, through the path's own file system. */
    public static StableFileChannel open(Path path, OpenOption... options) throws IOException {
        Set<OpenOption> reopen = new HashSet<>();
        for (OpenOption o : options) {
            if (o == StandardOpenOption.APPEND || o == StandardOpenOption.DELETE_ON_CLOSE) {
                throw new IllegalArgumentException(o + " is not supported by " + StableFileChannel.class.getSimpleName());
            }
            if (o != StandardOpenOption.CREATE && o != StandardOpenOption.CREATE_NEW && o != StandardOpenOption.TRUNCATE_EXISTING
                    && o != StandardOpenOption.SPARSE) {
                reopen.add(o);
            }
        }
        boolean interrupted = Thread.interrupted();
        try {
            FileChannel first = PrivateFiles.open(path, options); // a file it creates is private
            try {
                return new StableFileChannel(path, Set.copyOf(reopen), fileKeyOf(path), first);
            } catch (IOException | RuntimeException e) {
                first.close();
                throw e;
            }
        } finally {
            restore(interrupted);
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        boolean interrupted = Thread.interrupted();
        int start = dst.position();
        try {
            while (true) {
                FileChannel c = current;
                try {
                    return c.read(dst, position);
                } catch (ClosedChannelException e) {
                    interrupted |= reopenAfter(c, e);
                    dst.position(start);
                }
            }
        } finally {
            restore(interrupted);
        }
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        boolean interrupted = Thread.interrupted();
        int start = src.position();
        try {
            while (true) {
                FileChannel c = current;
                try {
                    return c.write(src, position);
                } catch (ClosedChannelException e) {
                    interrupted |= reopenAfter(c, e);
                    src.position(start);
                }
            }
        } finally {
            restore(interrupted);
        }
    }

    @Override
    public void force(boolean metaData) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                FileChannel c = current;
                try {
                    c.force(metaData);
                    return;
                } catch (ClosedChannelException e) {
                    interrupted |= reopenAfter(c, e);
                }
            }
        } finally {
            restore(interrupted);
        }
    }

    @Override
    public long size() throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                FileChannel c = current;
                try {
                    return c.size();
                } catch (ClosedChannelException e) {
                    interrupted |= reopenAfter(c, e);
                }
            }
        } finally {
            restore(interrupted);
        }
    }

    @Override
    public FileChannel truncate(long sizeBytes) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                FileChannel c = current;
                try {
                    c.truncate(sizeBytes);
                    synchronized (positionLock) {
                        positionBytes = Math.min(positionBytes, sizeBytes);
                    }
                    return this;
                } catch (ClosedChannelException e) {
                    interrupted |= reopenAfter(c, e);
                }
            }
        } finally {
            restore(interrupted);
        }
    }

    /** Maps a region; the mapping stays valid after a reopen (a mapping outlives its channel). */
    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            while (true) {
                FileChannel c = current;
                try {
                    return c.map(mode, position, size);
                } catch (ClosedChannelException e) {
                    interrupted |= reopenAfter(c, e);
                }
            }
        } finally {
            restore(interrupted);
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        synchronized (positionLock) {
            int n = read(dst, positionBytes);
            if (n > 0) {
                positionBytes += n;
            }
            return n;
        }
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        synchronized (positionLock) {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                while (dsts[i].hasRemaining()) {
                    int n = read(dsts[i]);
                    if (n < 0) {
                        return total == 0 ? -1 : total;
                    }
                    if (n == 0) {
                        return total;
                    }
                    total += n;
                }
            }
            return total;
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        synchronized (positionLock) {
            int n = write(src, positionBytes);
            positionBytes += n;
            return n;
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        synchronized (positionLock) {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                while (srcs[i].hasRemaining()) {
                    total += write(srcs[i]);
                }
            }
            return total;
        }
    }

    @Override
    public long position() throws IOException {
        ensureOpen();
        synchronized (positionLock) {
            return positionBytes;
        }
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position " + newPosition);
        }
        ensureOpen();
        synchronized (positionLock) {
            positionBytes = newPosition;
        }
        return this;
    }

    /** Refused: a lock would be lost by a reopen without anyone noticing. */
    @Override
    public FileLock lock(long position, long size, boolean shared) {
        throw new UnsupportedOperationException("file locks are not supported by " + getClass().getSimpleName() + " (" + path + ")");
    }

    /** Refused: a lock would be lost by a reopen without anyone noticing. */
    @Override
    public FileLock tryLock(long position, long size, boolean shared) {
        throw new UnsupportedOperationException("file locks are not supported by " + getClass().getSimpleName() + " (" + path + ")");
    }

    /** Refused: the target channel's state could not be reset for a retry. */
    @Override
    public long transferTo(long position, long count, WritableByteChannel target) {
        throw new UnsupportedOperationException("transferTo is not supported by " + getClass().getSimpleName() + " (" + path + ")");
    }

    /** Refused: the source channel's state could not be reset for a retry. */
    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) {
        throw new UnsupportedOperationException("transferFrom is not supported by " + getClass().getSimpleName() + " (" + path + ")");
    }

    @Override
    protected void implCloseChannel() throws IOException {
        synchronized (reopenLock) {
            current.close();
        }
    }

    /**
     * Called when {@code failed} was found closed. If this channel was closed by its owner, the
     * exception stands; otherwise an interrupt closed {@code failed}, and the file is reopened
     * unless another thread already did. Returns whether the calling thread was interrupted
     * (its flag is cleared here and set again when the operation returns).
     */
    private boolean reopenAfter(FileChannel failed, ClosedChannelException cause) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            synchronized (reopenLock) {
                if (!isOpen() || failed.isOpen()) {
                    throw cause; // closed by its owner, or a close we did not cause: nothing to repair
                }
                if (current == failed) {
                    FileChannel reopened = FileChannel.open(path, reopenOptions);
                    if (!Objects.equals(fileKeyOf(path), fileKey)) {
                        reopened.close();
                        throw new IOException(path + " was replaced by another file while open; reopen the set");
                    }
                    current = reopened;
                    reopenCount++;
                }
            }
            return interrupted;
        } catch (IOException | RuntimeException e) {
            restore(interrupted);
            throw e;
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
    }

    private static Object fileKeyOf(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
    }

    private static void restore(boolean interrupted) {
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** How many times an interrupt-closed descriptor was replaced since {@code open}; for tests and diagnostics. */
    public int reopenCount() {
        return reopenCount;
    }

    /** For tests: the descriptor in use now (closing it is what an interrupt during an operation does). */
    FileChannel underlying() {
        return current;
    }
}
