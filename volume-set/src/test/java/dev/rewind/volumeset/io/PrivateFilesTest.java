package dev.rewind.volumeset.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The modes {@link PrivateFiles} gives, in one JVM (the umask cases run the real CLI in
 * {@code PrivateFilesIT}): roots get the access asked for, everything inside inherits from its
 * directory, an owner-only directory inside a group-readable one does not hand the group
 * down, and a directory others can write is refused without being changed.
 */
class PrivateFilesTest {
    @TempDir
    Path tmp;
    /** A group that exists and the test may give files to: the temporary directory's own. */
    private String group;

    @BeforeEach
    void findGroup() throws IOException {
        group = Files.readAttributes(tmp, PosixFileAttributes.class).group().getName();
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static String groupOf(Path p) throws IOException {
        return Files.readAttributes(p, PosixFileAttributes.class).group().getName();
    }

    @Test
    void ownerOnlyRootsAndEverythingMadeInsideThem() throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path data = PrivateFiles.createDirectories(tmp.resolve("a/b/data"), FileAccess.OWNER_ONLY);
        assertEquals("rwx------", mode(tmp.resolve("a")), "a missing parent is a root too");
        assertEquals("rwx------", mode(data));
        Path journal = PrivateFiles.createDirectories(data.resolve("secondary/journal"));
        assertEquals("rwx------", mode(journal));
        assertEquals("rw-------", mode(PrivateFiles.createFile(journal.resolve("1.rwj"))));
        try (FileChannel c = PrivateFiles.open(journal.resolve("2.rwj"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            assertEquals("rw-------", mode(journal.resolve("2.rwj")));
        }
        try (FileChannel c = PrivateFiles.open(journal.resolve("3.rwj"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertEquals("rw-------", mode(journal.resolve("3.rwj")));
        }
    }

    @Test
    void aGroupRootHandsItsGroupDownButNotPastAnOwnerOnlyDirectory() throws IOException {
        Path data = PrivateFiles.createDirectories(tmp.resolve("data"), FileAccess.group(group));
        assertEquals("rwxr-x---", mode(data));
        assertEquals(group, groupOf(data));
        Path increments = PrivateFiles.createDirectories(data.resolve("shop/increments"));
        assertEquals("rwxr-x---", mode(increments));
        assertEquals("rwxr-x---", mode(data.resolve("shop")));
        Path segment = PrivateFiles.createFile(increments.resolve("inc-1"));
        assertEquals("rw-r-----", mode(segment));
        assertEquals(group, groupOf(segment));

        Path sandbox = PrivateFiles.createDirectories(data.resolve("sandboxes/look"), FileAccess.OWNER_ONLY);
        assertEquals("rwx------", mode(sandbox));
        assertEquals("rwx------", mode(PrivateFiles.createDirectories(sandbox.resolve("overlay"))));
        assertEquals("rw-------", mode(PrivateFiles.createFile(sandbox.resolve("overlay/data"))));
    }

    @Test
    void onlyADirectoryReadableByItsGroupAloneHandsTheGroupDown() throws IOException {
        for (String open : new String[] {"rwxr-xr-x", "rwxr-x--x", "rwxr-xr--"}) {
            Path dir = Files.createDirectory(tmp.resolve(open));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(open));
            assertEquals("rw-------", mode(PrivateFiles.createFile(dir.resolve("segment"))), "inside " + open);
            assertEquals("rwx------", mode(PrivateFiles.createDirectories(dir.resolve("sub"))), "inside " + open);
        }
    }

    @Test
    void aPvFileGetsTheAccessItIsCreatedWith() throws IOException {
        assertEquals("rw-------", mode(PrivateFiles.createFile(tmp.resolve("pv0.img"), FileAccess.OWNER_ONLY)));
        Path shared = PrivateFiles.createFile(tmp.resolve("pv1.img"), FileAccess.group(group));
        assertEquals("rw-r-----", mode(shared));
        assertEquals(group, groupOf(shared));
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> PrivateFiles.createFile(shared, FileAccess.OWNER_ONLY));
        assertEquals("rw-r-----", mode(shared), "a refused create left the file as it was");
    }

    @Test
    void aSocketIsOwnerOnlyOrGroupWritableAsItsDirectoryHandsDown() throws IOException {
        Path own = PrivateFiles.createDirectories(tmp.resolve("own"), FileAccess.OWNER_ONLY);
        Path shared = PrivateFiles.createDirectories(tmp.resolve("shared"), FileAccess.group(group));
        for (Path dir : new Path[] {own, shared}) {
            Path socketFile = Files.createFile(dir.resolve("nbd.sock")); // the mode is what is checked, not the kind
            PrivateFiles.restrictSocket(socketFile);
        }
        assertEquals("rw-------", mode(own.resolve("nbd.sock")));
        assertEquals("rw-rw----", mode(shared.resolve("nbd.sock")), "the group connects; the server makes its exports read-only");
    }

    @Test
    void anUnknownGroupIsOneLineNamingIt() {
        RewindException e = assertThrows(RewindException.class,
                () -> PrivateFiles.createDirectories(tmp.resolve("data"), FileAccess.group("no-such-group-rw")));
        assertEquals("group 'no-such-group-rw' does not exist; create it (groupadd no-such-group-rw) or choose another", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FileAccess.group("bad group"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"rwxrwxrwx", "rwxrwx---", "rwx----w-", "rwx-w----"})
    void aDirectoryOthersCanWriteIsRefusedWithTheFixAndLeftAsItWas(String permissions) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("secondary"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(permissions));
        String before = mode(dir);
        RewindException e = assertThrows(RewindException.class, () -> PrivateFiles.checkPrivate(dir, "secondary directory of set shop"));
        assertTrue(e.getMessage().startsWith("secondary directory of set shop " + dir + " can be written by other users (mode "), e.getMessage());
        assertTrue(e.getMessage().endsWith("; fix it with: chmod go-w " + dir), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertEquals(before, mode(dir));
    }

    @Test
    void aPrivateOrGroupReadableDirectoryPasses() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("data"));
        for (String p : new String[] {"rwx------", "rwxr-x---", "rwxr-xr-x"}) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(p));
            PrivateFiles.checkPrivate(dir, "data dir"); // others reading gets a warning on stderr, not a refusal
        }
    }

    @Test
    void octalModes() {
        assertEquals("0750", PrivateFiles.octal(PosixFilePermissions.fromString("rwxr-x---")));
        assertEquals("0600", PrivateFiles.octal(PosixFilePermissions.fromString("rw-------")));
        assertEquals("0777", PrivateFiles.octal(PosixFilePermissions.fromString("rwxrwxrwx")));
        assertEquals("0000", PrivateFiles.octal(PosixFilePermissions.fromString("---------")));
    }
}
