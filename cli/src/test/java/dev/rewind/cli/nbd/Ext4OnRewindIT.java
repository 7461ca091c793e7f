package dev.rewind.cli.nbd;

import static dev.rewind.cli.nbd.RewindServe.SET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real kernel filesystem on a Rewind volume: {@code nbdfuse} exposes the export as a file,
 * {@code losetup} makes it a block device, {@code mkfs.ext4}, {@code mount}; files written
 * before a bookmark come back byte for byte after {@code rewind restore --to-bookmark}, the ones
 * written after are gone, and {@code e2fsck -fn} finds nothing wrong; the same through the
 * read-only export {@code set/data@bookmark:one}. Needs root (loop devices, mount): skipped with
 * a message elsewhere, failed in CI.
 */
class Ext4OnRewindIT {
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @Test
    void ext4FilesComeBackExactlyAtTheBookmarkInPlaceAndThroughTheReadOnlyExport() throws Exception {
        Tools.requireRoot("loop devices and mount");
        Tools.requireTool("nbdfuse", "nbdfuse");
        Tools.requireTool("fusermount3", "fuse3");
        Tools.requireTool("losetup", "mount");
        Tools.requireTool("mount", "mount");
        Tools.requireTool("umount", "mount");
        Tools.requireTool("fsfreeze", "util-linux");
        Tools.requireTool("mkfs.ext4", "e2fsprogs");
        Tools.requireTool("e2fsck", "e2fsprogs");
        if (!Files.exists(Path.of("/dev/fuse"))) {
            Tools.unavailable("/dev/fuse does not exist: FUSE is not available here");
        }

        try (RewindServe serve = RewindServe.create(dir, "data", "64M")) {
            serve.start();
            Map<String, String> batchOne;
            long bookmarkSeq;
            try (LoopOverNbd dev = LoopOverNbd.attach(serve.uri(SET + "/data"), dir.resolve("nbd"), false)) {
                run("mkfs.ext4", "-q", dev.loop);
                dev.mount(dir.resolve("fs"), "rw");
                batchOne = writeFiles(dev.fsDir, "one", 12, new Random(1));
                run("sync");
                // freeze: everything written, the journal checkpointed, the image clean at the bookmark
                run("fsfreeze", "-f", dev.fsDir.toString());
                try {
                    bookmarkSeq = serve.json("bookmark", SET, "one", "--json").get("seq").asLong();
                } finally {
                    run("fsfreeze", "-u", dev.fsDir.toString());
                }
                writeFiles(dev.fsDir, "two", 10, new Random(2));
                Files.write(dev.fsDir.resolve("one-0.bin"), new byte[12345]); // batch two also rewrites and deletes batch one's files
                Files.delete(dev.fsDir.resolve("one-1.bin"));
                run("sync");
            }

            // the past, read-only, while the present still holds batch two
            try (LoopOverNbd dev = LoopOverNbd.attach(serve.uri(SET + "/data@bookmark:one"), dir.resolve("nbd-past"), true)) {
                run("e2fsck", "-fn", dev.loop);
                dev.mount(dir.resolve("fs-past"), "ro,noload");
                assertEquals(batchOne, hashes(dev.fsDir), "through set/data@bookmark:one: batch one byte for byte, batch two absent");
            }

            JsonNode restore = serve.json("restore", SET, "--to-bookmark", "one", "--json");
            assertEquals(bookmarkSeq, restore.get("targetSeq").asLong());

            try (LoopOverNbd dev = LoopOverNbd.attach(serve.uri(SET + "/data"), dir.resolve("nbd"), false)) {
                run("e2fsck", "-fn", dev.loop); // exactly the frozen, clean image
                dev.mount(dir.resolve("fs"), "rw");
                assertEquals(batchOne, hashes(dev.fsDir), "after the restore in place: batch one byte for byte, batch two gone");
                dev.umount();
                run("e2fsck", "-fn", dev.loop);
            }

            int exit = serve.stop();
            System.out.println("Ext4OnRewindIT: rewind serve exited with status " + exit + " on SIGTERM");
            assertTrue(exit == 0 || exit == 143, "exit status " + exit + " on SIGTERM:\n" + serve.log());
            assertTrue(!serve.log().contains("Exception"), () -> "rewind serve printed an exception:\n" + serve.log());
        }
    }

    /** Writes {@code count} files of random content and sizes; returns name to SHA-256. */
    private static Map<String, String> writeFiles(Path fs, String prefix, int count, Random rnd) throws IOException {
        Map<String, String> written = new TreeMap<>();
        Files.createDirectories(fs.resolve(prefix + "-dir"));
        for (int i = 0; i < count; i++) {
            byte[] content = new byte[1 + rnd.nextInt(i % 3 == 0 ? 2 << 20 : 64 << 10)];
            rnd.nextBytes(content);
            String name = (i % 4 == 3 ? prefix + "-dir/" : "") + prefix + "-" + i + ".bin";
            Files.write(fs.resolve(name), content);
            written.put(name, sha256(content));
        }
        return written;
    }

    /** Every regular file under {@code fs} (lost+found aside) and its SHA-256. */
    private static Map<String, String> hashes(Path fs) throws IOException {
        Map<String, String> found = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(fs)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                String name = fs.relativize(p).toString();
                if (!name.startsWith("lost+found")) {
                    found.put(name, sha256(Files.readAllBytes(p)));
                }
            }
        }
        return found;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Tools.Result run(String... command) {
        return Tools.run(TOOL_TIMEOUT, command).assertOk();
    }

    /**
     * An export as a kernel block device: {@code nbdfuse} shows it as the file {@code <dir>/nbd},
     * {@code losetup} attaches a loop device to that file. Closing undoes everything in order
     * (unmount, detach the loop, unmount FUSE), whatever state the test left it in.
     */
    static final class LoopOverNbd implements AutoCloseable {
        final Path fuseDir;
        final Process nbdfuse;
        String loop;
        Path fsDir;
        private boolean mounted;

        private LoopOverNbd(Path fuseDir, Process nbdfuse) {
            this.fuseDir = fuseDir;
            this.nbdfuse = nbdfuse;
        }

        static LoopOverNbd attach(String uri, Path fuseDir, boolean readOnly) throws IOException, InterruptedException {
            Files.createDirectories(fuseDir);
            Path pidFile = fuseDir.resolveSibling(fuseDir.getFileName() + ".pid");
            Files.deleteIfExists(pidFile);
            Path log = fuseDir.resolveSibling(fuseDir.getFileName() + ".log");
            List<String> cmd = readOnly ? List.of("nbdfuse", "-r", "-P", pidFile.toString(), fuseDir.toString(), uri)
                    : List.of("nbdfuse", "-P", pidFile.toString(), fuseDir.toString(), uri);
            Process p = new ProcessBuilder(Tools.find("nbdfuse").toString()).command(withPath(cmd)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            LoopOverNbd dev = new LoopOverNbd(fuseDir, p);
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!Files.exists(pidFile) || !Files.exists(fuseDir.resolve("nbd"))) {
                    if (!p.isAlive()) {
                        fail("nbdfuse " + uri + " exited with status " + p.exitValue() + ": " + Files.readString(log));
                    }
                    if (System.nanoTime() > deadline) {
                        fail("nbdfuse " + uri + " not ready within 30 s: " + Files.readString(log));
                    }
                    Thread.sleep(20);
                }
                List<String> losetup = readOnly ? List.of("losetup", "-r", "-f", "--show", fuseDir.resolve("nbd").toString())
                        : List.of("losetup", "-f", "--show", fuseDir.resolve("nbd").toString());
                dev.loop = Tools.run(TOOL_TIMEOUT, losetup).assertOk().out().strip();
                return dev;
            } catch (Throwable t) {
                dev.close();
                throw t;
            }
        }

        private static List<String> withPath(List<String> cmd) {
            List<String> c = new java.util.ArrayList<>(cmd);
            c.set(0, Tools.find(c.get(0)).toString());
            return c;
        }

        void mount(Path at, String options) throws IOException {
            Files.createDirectories(at);
            fsDir = at;
            Tools.run(TOOL_TIMEOUT, "mount", "-o", options, loop, at.toString()).assertOk();
            mounted = true;
        }

        void umount() {
            Tools.run(TOOL_TIMEOUT, "umount", fsDir.toString()).assertOk();
            mounted = false;
        }

        @Override
        public void close() {
            if (mounted) {
                if (Tools.run(TOOL_TIMEOUT, "umount", fsDir.toString()).exit() != 0) {
                    Tools.run(TOOL_TIMEOUT, "umount", "-l", fsDir.toString());
                }
                mounted = false;
            }
            if (loop != null) {
                Tools.run(TOOL_TIMEOUT, "losetup", "-d", loop);
                loop = null;
            }
            if (Tools.run(TOOL_TIMEOUT, "fusermount3", "-u", fuseDir.toString()).exit() != 0) {
                Tools.run(TOOL_TIMEOUT, "umount", "-l", fuseDir.toString());
            }
            try {
                if (!nbdfuse.waitFor(20, TimeUnit.SECONDS)) {
                    nbdfuse.destroyForcibly();
                    nbdfuse.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
