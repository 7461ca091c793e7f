package dev.rewind.capture.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What the sandbox tests look at from outside the API: the files under the sandbox root, the
 * bytes of the journal, the catalog's sandbox rows, and whole members read through a device.
 */
final class SandboxFiles {
    /** The lock file of the whole root, which belongs to no sandbox. */
    static final String ROOT_LOCK = ".lock";

    private SandboxFiles() {
    }

    /** Every path under {@code root} (relative), with its size for files and -1 for directories. */
    static Map<String, Long> listing(Path root) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        if (!Files.exists(root)) {
            return out;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                if (!p.equals(root) && !(p.getParent().equals(root) && p.getFileName().toString().equals(ROOT_LOCK))) {
                    out.put(root.relativize(p).toString(), Files.isDirectory(p) ? -1L : Files.size(p));
                }
            }
        }
        return out;
    }

    /** The SHA-256 of every file of the journal directory, by name: any changed record byte changes it. */
    static Map<String, String> journalDigest(CapturedSet set) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(set.journal().dir())) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                out.put(set.journal().dir().relativize(p).toString(), sha256(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every member of the sandbox, read whole through its devices, equals {@code expected}. */
    static void assertReads(Sandbox sandbox, ImageModel expected, String context) throws IOException {
        List<BlockDevice> members = sandbox.members();
        assertEquals(expected.memberCount(), members.size(), context + ": one device per member");
        for (int m = 0; m < members.size(); m++) {
            BlockDevice d = members.get(m);
            assertEquals(expected.size(m), d.sizeBytes(), context + ": size of " + d.name());
            ImageModel.assertSameBytes(context + ", sandbox member " + d.name(), expected.bytes(m), ImageModel.readDevice(d));
        }
    }

    /** A range of one member read through its device equals the model's bytes there. */
    static void assertReadsRange(BlockDevice d, byte[] expectedMember, long offset, int length, String context) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        d.read(offset, buf);
        byte[] expected = java.util.Arrays.copyOfRange(expectedMember, (int) offset, (int) offset + length);
        ImageModel.assertSameBytes(context + ", " + d.name() + " " + offset + "+" + length, expected, buf.array());
    }

    /**
     * After a drop: no catalog row, no directory, and no file under the root that belongs to it
     * (every file left lies in the directory of a sandbox the catalog still lists).
     */
    static void assertGone(Path root, Catalog catalog, SandboxRecord dropped, String context) throws IOException {
        assertTrue(catalog.sandboxes().find(dropped.setName(), dropped.name()).isEmpty(), context + ": the catalog row is gone");
        assertFalse(Files.exists(Path.of(dropped.dir())), context + ": the directory " + dropped.dir() + " is gone");
        assertOnlyListedSandboxFiles(root, catalog, context);
    }

    /** Every regular file under {@code root} lies in the directory of a sandbox the catalog lists. */
    static void assertOnlyListedSandboxFiles(Path root, Catalog catalog, String context) throws IOException {
        List<Path> dirs = catalog.sandboxes().list(null).stream().map(r -> Path.of(r.dir()).toAbsolutePath().normalize()).toList();
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                if (p.getParent().equals(root) && p.getFileName().toString().equals(ROOT_LOCK)) {
                    continue;
                }
                Path abs = p.toAbsolutePath().normalize();
                if (dirs.stream().noneMatch(abs::startsWith)) {
                    fail(context + ": " + root.relativize(p) + " belongs to no sandbox the catalog lists " + dirs);
                }
            }
            try (Stream<Path> names = Files.walk(root)) {
                for (Path p : names.toList()) {
                    String n = p.getFileName().toString();
                    assertFalse(n.contains(".creating-") || n.contains(".dropping-"), context + ": a temporary directory is left: " + p);
                }
            }
        }
    }
}
