package dev.rewind.volumeset.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Making new files and directory entries survive power loss. A written file is durable only
 * after a {@code force} of the file, and its name only after a {@code force} of the directory
 * holding it, and so on up to the first directory that already existed durably: what a
 * command reports as done must be on the disk when it returns, not when the kernel gets to it.
 * What is created here is private ({@link PrivateFiles}).
 */
public final class DurableFiles {
    private DurableFiles() {
    }

    /**
     * Creates {@code dir} and any missing parents, forcing the parent of each directory
     * created so that the new entries survive power loss.
     */
    public static Path createDirectories(Path dir) throws IOException {
        return createDirectories(dir, null);
    }

    /**
     * Like {@link #createDirectories(Path)}; the new directories get {@code access} (a root of
     * what Rewind keeps), or with null inherit from their parent ({@link PrivateFiles}).
     */
    public static Path createDirectories(Path dir, FileAccess access) throws IOException {
        for (Path created : PrivateFiles.createMissingDirectories(dir, access)) {
            forceDirectory(created.getParent());
        }
        return dir;
    }

    /** Forces a directory: the entries created, renamed or removed in it so far survive power loss. */
    public static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = StableFileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Forces a file's content and size. */
    public static void forceFile(Path file) throws IOException {
        try (FileChannel c = StableFileChannel.open(file, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    /**
     * Creates {@code file} holding {@code content} atomically and durably: a temp file beside
     * it is written and forced, renamed over the name (so a crash leaves the old file or the
     * new one, never a part), and the directory is forced. With {@code createNew}, an existing
     * file is refused with {@link java.nio.file.FileAlreadyExistsException} and left alone.
     * The file is private, as its directory hands down ({@link PrivateFiles}).
     */
    public static void writeAtomically(Path file, byte[] content, boolean createNew) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (createNew && Files.exists(file)) {
            throw new java.nio.file.FileAlreadyExistsException(file.toString());
        }
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            PrivateFiles.createFile(tmp);
            try (FileChannel c = StableFileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(content);
                while (b.hasRemaining()) {
                    c.write(b, b.position());
                }
                c.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        forceDirectory(dir);
    }
}
