package dev.rewind.volumeset.io;

import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Who may read what Rewind creates: the owner only (directories 0700, files 0600), or the
 * owner and one group that may read but never write (0750, 0640; a backup operator's group,
 * chosen with {@code rewind init --group NAME}). Nobody else, whatever the umask.
 */
public record FileAccess(Optional<String> groupName) {
    /** Directories 0700, files 0600. */
    public static final FileAccess OWNER_ONLY = new FileAccess(Optional.empty());
    private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?");
    private static final Set<PosixFilePermission> DIR_OWNER = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> DIR_GROUP = PosixFilePermissions.fromString("rwxr-x---");
    private static final Set<PosixFilePermission> FILE_OWNER = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> FILE_GROUP = PosixFilePermissions.fromString("rw-r-----");

    public FileAccess {
        groupName.ifPresent(g -> {
            if (!GROUP_NAME.matcher(g).matches()) {
                throw new IllegalArgumentException("'" + g + "' is not a group name (letters, digits, '_', '.', '-'; at most 32)");
            }
        });
    }

    /** Owner and group {@code name} may read; only the owner writes. */
    public static FileAccess group(String name) {
        return new FileAccess(Optional.of(name));
    }

    public boolean isGroupReadable() {
        return groupName.isPresent();
    }

    public Set<PosixFilePermission> directoryPermissions() {
        return isGroupReadable() ? DIR_GROUP : DIR_OWNER;
    }

    public Set<PosixFilePermission> filePermissions() {
        return isGroupReadable() ? FILE_GROUP : FILE_OWNER;
    }

    /** Permissions of a Unix socket: the owner, and the group when there is one, may connect (0600 or 0660). */
    public Set<PosixFilePermission> socketPermissions() {
        return PosixFilePermissions.fromString(isGroupReadable() ? "rw-rw----" : "rw-------");
    }

    @Override
    public String toString() {
        return groupName.map(g -> "group " + g + " (0750/0640)").orElse("owner only (0700/0600)");
    }
}
