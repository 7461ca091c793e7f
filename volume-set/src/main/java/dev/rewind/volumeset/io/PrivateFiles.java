package dev.rewind.volumeset.io;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every file and directory Rewind creates is made here, private whatever the umask: born
 * owner-only (the umask can only take bits away from 0600/0700, so nobody else ever sees it
 * open), then given its final mode and group.
 *
 * <p><b>Which access.</b> The roots of what Rewind keeps (the data dir, a set's secondary, a PV
 * file, a clone directory) are created with the {@link FileAccess} the data dir was made with.
 * Everything inside them inherits from the directory it is created in: a directory that grants
 * its group read access and grants others nothing hands its group and 0750/0640 down;
 * any other directory hands down owner-only. So a journal segment, an increment or a lock file
 * needs no setting passed to it, and a directory made owner-only on purpose (a sandbox's)
 * does not leak group access into what lies below it.
 *
 * <p><b>Checks at open.</b> {@link #checkPrivate} refuses a data dir or secondary that others
 * can write (someone else could swap the journal under the set) with one line naming the path
 * and the {@code chmod} to run, and warns once on stderr about one that others can read.
 */
public final class PrivateFiles {
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final Set<Path> WARNED = ConcurrentHashMap.newKeySet();

    private PrivateFiles() {
    }

    /** What a new entry in {@code dir} gets: the directory's group when only the group may read it, else owner-only. */
    private record Inherited(GroupPrincipal group) {
        static final Inherited OWNER_ONLY = new Inherited(null);

        Set<PosixFilePermission> permissions(boolean directory) {
            return PosixFilePermissions.fromString(group == null ? (directory ? "rwx------" : "rw-------")
                    : (directory ? "rwxr-x---" : "rw-r-----"));
        }
    }

    private static boolean isPosix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static Inherited inheritedFrom(Path dir) throws IOException {
        if (dir == null || !isPosix(dir)) {
            return Inherited.OWNER_ONLY;
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class);
        Set<PosixFilePermission> p = a.permissions();
        boolean groupOnly = p.contains(PosixFilePermission.GROUP_READ) && !p.contains(PosixFilePermission.OTHERS_READ)
                && !p.contains(PosixFilePermission.OTHERS_EXECUTE);
        return groupOnly ? new Inherited(a.group()) : Inherited.OWNER_ONLY;
    }

    private static Inherited of(Path path, FileAccess access) throws IOException {
        if (access.groupName().isEmpty()) {
            return Inherited.OWNER_ONLY;
        }
        String name = access.groupName().get();
        try {
            return new Inherited(path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(name));
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new RewindException("group '" + name + "' does not exist; create it (groupadd " + name + ") or choose another");
        }
    }

    private static void apply(Path path, Inherited access, boolean directory) throws IOException {
        if (!isPosix(path)) {
            return;
        }
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class); // NOFOLLOW would open() it: fails on a socket
        if (access.group() != null) {
            view.setGroup(access.group());
        }
        view.setPermissions(access.permissions(directory));
    }

    /** Creates {@code dir} and its missing parents; each new directory inherits from the one it is made in. */
    public static Path createDirectories(Path dir) throws IOException {
        return createDirectories(dir, null);
    }

    /**
     * Creates {@code dir} and its missing parents with {@code access} (a root of what Rewind
     * keeps); null: each inherits from its parent. Existing directories are left as they are.
     */
    public static Path createDirectories(Path dir, FileAccess access) throws IOException {
        createMissingDirectories(dir, access);
        return dir;
    }

    /**
     * {@link #createDirectories(Path, FileAccess)}, returning the directories that were
     * missing, outermost first (those someone else made meanwhile included): what
     * {@link DurableFiles} must force the parents of.
     */
    static List<Path> createMissingDirectories(Path dir, FileAccess access) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = abs; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.push(p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p, isPosix(p) ? new FileAttribute<?>[] {OWNER_DIR} : new FileAttribute<?>[0]);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (!Files.isDirectory(p)) {
                    throw e;
                }
                continue; // made by someone else meanwhile: left as it is
            }
            apply(p, access == null ? inheritedFrom(p.getParent()) : of(p, access), true);
        }
        return List.copyOf(missing);
    }

    /** Creates the new file {@code file} (refused if it exists), inheriting from its directory. */
    public static Path createFile(Path file) throws IOException {
        Files.createFile(file, attrs(file, false));
        apply(file, inheritedFrom(file.toAbsolutePath().getParent()), false);
        return file;
    }

    /** Creates the new file {@code file} (refused if it exists) with {@code access} (a root: a PV file). */
    public static Path createFile(Path file, FileAccess access) throws IOException {
        Files.createFile(file, attrs(file, false));
        apply(file, of(file, access), false);
        return file;
    }

    /**
     * Opens a channel like {@link FileChannel#open(Path, OpenOption...)}; a file it creates
     * ({@code CREATE}, {@code CREATE_NEW}) is born owner-only and inherits from its directory.
     */
    public static FileChannel open(Path path, OpenOption... options) throws IOException {
        boolean creating = List.of(options).contains(StandardOpenOption.CREATE_NEW)
                || (List.of(options).contains(StandardOpenOption.CREATE) && !Files.exists(path, LinkOption.NOFOLLOW_LINKS));
        if (!creating) {
            return FileChannel.open(path, options);
        }
        FileChannel c = FileChannel.open(path, Set.of(options), attrs(path, false));
        try {
            apply(path, inheritedFrom(path.toAbsolutePath().getParent()), false);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Gives an existing file or directory the mode and group its parent hands down (e.g. a Unix socket or a file another library made). */
    public static void restrictLikeParent(Path path, boolean directory) throws IOException {
        apply(path, inheritedFrom(path.toAbsolutePath().getParent()), directory);
    }

    /** Gives an existing path {@code access}'s mode and group. */
    public static void restrict(Path path, FileAccess access, boolean directory) throws IOException {
        apply(path, of(path, access), directory);
    }

    /** Gives a Unix socket 0600 (0660 with the group its directory hands down): who may connect. */
    public static void restrictSocket(Path socket) throws IOException {
        if (!isPosix(socket)) {
            return;
        }
        Inherited from = inheritedFrom(socket.toAbsolutePath().getParent());
        PosixFileAttributeView view = Files.getFileAttributeView(socket, PosixFileAttributeView.class);
        if (from.group() != null) {
            view.setGroup(from.group());
        }
        view.setPermissions(PosixFilePermissions.fromString(from.group() == null ? "rw-------" : "rw-rw----"));
    }

    /** Gives every file and directory below {@code root} (not root itself) what its parent hands down: for files another library created. */
    public static void restrictTree(Path root) throws IOException {
        if (!Files.isDirectory(root) || !isPosix(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.skip(1).toList()) {
                if (Files.isSymbolicLink(p) || !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                restrictLikeParent(p, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS));
            }
        }
    }

    /**
     * Refuses {@code dir} ({@code what}: "data dir", "secondary directory of set shop") when
     * users other than its owner can write it, with the {@code chmod} that fixes it; warns once
     * on stderr when others can read it. Changes nothing.
     */
    public static void checkPrivate(Path dir, String what) throws IOException {
        if (!isPosix(dir) || !Files.isDirectory(dir)) {
            return;
        }
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
        String mode = octal(p);
        if (p.contains(PosixFilePermission.OTHERS_WRITE) || p.contains(PosixFilePermission.GROUP_WRITE)) {
            throw new RewindException(what + " " + dir + " can be written by other users (mode " + mode
                    + "); fix it with: chmod go-w " + dir);
        }
        if (p.contains(PosixFilePermission.OTHERS_READ) && WARNED.add(dir)) {
            System.err.println("rewind: warning: " + what + " " + dir + " can be read by other users (mode " + mode
                    + "); make it private with: chmod o-rwx " + dir);
        }
    }

    /** {@code p} as an octal mode, e.g. 0750. */
    public static String octal(Set<PosixFilePermission> p) {
        int m = 0;
        for (PosixFilePermission b : p) {
            m |= 1 << (8 - b.ordinal());
        }
        return String.format("%04o", m);
    }

    private static FileAttribute<?>[] attrs(Path p, boolean directory) {
        return isPosix(p) ? new FileAttribute<?>[] {directory ? OWNER_DIR : OWNER_FILE} : new FileAttribute<?>[0];
    }
}
