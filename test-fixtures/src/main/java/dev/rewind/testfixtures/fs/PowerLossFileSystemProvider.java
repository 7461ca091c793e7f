package dev.rewind.testfixtures.fs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.spi.FileSystemProvider;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;

/**
 * The JVM's default file system provider, wrapped so that tests can cut the power: installed
 * with {@code -Djava.nio.file.spi.DefaultFileSystemProvider=dev.rewind.testfixtures.fs.PowerLossFileSystemProvider}
 * (the surefire execution {@code power-loss} does it), so that everything the code under test
 * opens — the data dir, the H2 catalog, secondaries, PV files — goes through it without any
 * hook in production code. Files under a {@link PowerLossDisk}'s root are tracked by that disk
 * (unforced writes, unforced directory entries, injected faults); every other path passes through.
 */
public final class PowerLossFileSystemProvider extends FileSystemProvider {
    private static volatile PowerLossFileSystemProvider installed;

    private final FileSystemProvider builtin;
    private final WrappedFileSystem fileSystem;
    private final List<PowerLossDisk> disks = new CopyOnWriteArrayList<>();

    public PowerLossFileSystemProvider(FileSystemProvider builtin) {
        this.builtin = builtin;
        this.fileSystem = new WrappedFileSystem(this, builtin.getFileSystem(URI.create("file:///")));
        installed = this;
    }

    /**
     * The installed provider. In a JVM started without it the test is skipped with a message
     * saying how to run it (a {@code -Dtest=} run also runs it in Maven's default execution),
     * and fails where it must run: in the {@code power-loss} execution, which sets
     * {@code rewind.powerLoss.required}.
     */
    public static PowerLossFileSystemProvider installed() {
        FileSystems.getDefault(); // makes the JDK load the default provider
        if (installed == null) {
            String message = "this test needs the power-loss file system: start the JVM with "
                    + "-Djava.nio.file.spi.DefaultFileSystemProvider=" + PowerLossFileSystemProvider.class.getName()
                    + " (Maven's surefire execution 'power-loss' does)";
            if (Boolean.getBoolean("rewind.powerLoss.required")) {
                throw new AssertionError(message);
            }
            org.junit.jupiter.api.Assumptions.abort(message);
        }
        return installed;
    }

    /** Starts tracking the directory {@code root}: what it holds now counts as durable. */
    public PowerLossDisk track(Path root) throws IOException {
        Path real = WrappedPath.unwrap(root).toAbsolutePath().normalize();
        PowerLossDisk disk = new PowerLossDisk(real, d -> disks.remove(d));
        disks.add(disk);
        return disk;
    }

    private PowerLossDisk diskOf(Path real) {
        if (disks.isEmpty()) {
            return null;
        }
        Path abs = real.toAbsolutePath().normalize();
        for (PowerLossDisk d : disks) {
            if (abs.startsWith(d.root())) {
                return d;
            }
        }
        return null;
    }

    private static Path unwrap(Path p) {
        return WrappedPath.unwrap(p);
    }

    @Override
    public String getScheme() {
        return builtin.getScheme();
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException {
        throw new java.nio.file.FileSystemAlreadyExistsException();
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
        return fileSystem;
    }

    @Override
    public Path getPath(URI uri) {
        return fileSystem.wrap(builtin.getPath(uri));
    }

    @Override
    public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        Path real = unwrap(path);
        PowerLossDisk disk = diskOf(real);
        if (disk == null) {
            return builtin.newFileChannel(real, options, attrs);
        }
        return disk.open(builtin, real, options, attrs);
    }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        Path real = unwrap(path);
        PowerLossDisk disk = diskOf(real);
        if (disk == null) {
            return builtin.newByteChannel(real, options, attrs);
        }
        return disk.open(builtin, real, options, attrs);
    }

    @Override
    public InputStream newInputStream(Path path, OpenOption... options) throws IOException {
        Path real = unwrap(path);
        return diskOf(real) == null ? builtin.newInputStream(real, options) : super.newInputStream(path, options);
    }

    @Override
    public OutputStream newOutputStream(Path path, OpenOption... options) throws IOException {
        Path real = unwrap(path);
        return diskOf(real) == null ? builtin.newOutputStream(real, options) : super.newOutputStream(path, options);
    }

    @Override
    public AsynchronousFileChannel newAsynchronousFileChannel(Path path, Set<? extends OpenOption> options, ExecutorService executor,
                                                              FileAttribute<?>... attrs) throws IOException {
        Path real = unwrap(path);
        if (diskOf(real) != null && (options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND))) {
            throw new UnsupportedOperationException("asynchronous writes are not tracked by the power-loss file system");
        }
        return builtin.newAsynchronousFileChannel(real, options, executor, attrs);
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
        Path real = unwrap(dir);
        PowerLossDisk disk = diskOf(real);
        if (disk != null) {
            disk.checkPowerOn(real);
        }
        DirectoryStream<Path> inner = builtin.newDirectoryStream(real, p -> filter.accept(fileSystem.wrap(p)));
        return new DirectoryStream<>() {
            @Override
            public Iterator<Path> iterator() {
                Iterator<Path> it = inner.iterator();
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Path next() {
                        return fileSystem.wrap(it.next());
                    }
                };
            }

            @Override
            public void close() throws IOException {
                inner.close();
            }
        };
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
        Path real = unwrap(dir);
        PowerLossDisk disk = diskOf(real);
        if (disk == null) {
            builtin.createDirectory(real, attrs);
            return;
        }
        disk.createDirectory(builtin, real, attrs);
    }

    @Override
    public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) throws IOException {
        builtin.createSymbolicLink(unwrap(link), unwrap(target), attrs);
    }

    @Override
    public void createLink(Path link, Path existing) throws IOException {
        builtin.createLink(unwrap(link), unwrap(existing));
    }

    @Override
    public void delete(Path path) throws IOException {
        Path real = unwrap(path);
        PowerLossDisk disk = diskOf(real);
        if (disk != null) {
            disk.checkPowerOn(real);
        }
        builtin.delete(real);
    }

    @Override
    public Path readSymbolicLink(Path link) throws IOException {
        return fileSystem.wrap(builtin.readSymbolicLink(unwrap(link)));
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
        Path realTarget = unwrap(target);
        PowerLossDisk disk = diskOf(realTarget);
        if (disk == null) {
            builtin.copy(unwrap(source), realTarget, options);
            return;
        }
        disk.copy(builtin, unwrap(source), realTarget, options);
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
        Path realSource = unwrap(source);
        Path realTarget = unwrap(target);
        for (PowerLossDisk disk : new PowerLossDisk[] {diskOf(realSource), diskOf(realTarget)}) {
            if (disk != null) {
                disk.checkPowerOn(realTarget);
            }
        }
        builtin.move(realSource, realTarget, options);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
        return builtin.isSameFile(unwrap(path), unwrap(path2));
    }

    @Override
    public boolean isHidden(Path path) throws IOException {
        return builtin.isHidden(unwrap(path));
    }

    @Override
    public FileStore getFileStore(Path path) throws IOException {
        return builtin.getFileStore(unwrap(path));
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
        builtin.checkAccess(unwrap(path), modes);
    }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
        return builtin.getFileAttributeView(unwrap(path), type, options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options) throws IOException {
        return builtin.readAttributes(unwrap(path), type, options);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
        return builtin.readAttributes(unwrap(path), attributes, options);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
        builtin.setAttribute(unwrap(path), attribute, value, options);
    }
}
