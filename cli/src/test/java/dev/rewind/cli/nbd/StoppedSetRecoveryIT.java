package dev.rewind.cli.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.CMD_FLUSH;
import static dev.rewind.capture.nbd.NbdProtocol.CMD_READ;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A set whose secondary is a small real ext4 file system (a loop-mounted image) stops when that
 * file system fills up, and comes back by itself once space is freed, without restarting
 * {@code rewind serve} and without {@code rewind set reopen}: an NBD client's writes are refused
 * while it is stopped, status says so and why, and afterwards every write acknowledged before and
 * after reads back, as does a point from before the failure. The same when the file system
 * turns read-only after an error (as ext4 does with errors=remount-ro): the set lets go of its
 * files, so that the file system can be unmounted, checked and mounted again, and then comes
 * back. ({@code mount -o remount,ro} cannot stand in for that: Linux refuses it while files are
 * open for writing.) Needs root (loop device, mount): skipped with a message elsewhere, failed
 * under CI=true.
 */
class StoppedSetRecoveryIT {
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(1);
    private static final String SET = "onloop";
    private static final String EXPORT = SET + "/small";
    private static final int MEMBER_BYTES = 2 << 20;
    private static final int WRITE_BYTES = 64 << 10;
    private static final Duration BACK_WITHIN = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private LoopExt4 fs;

    @BeforeEach
    void loopFileSystem() throws IOException {
        Tools.requireRoot("a loop device and mount");
        Tools.requireTool("mkfs.ext4", "e2fsprogs");
        Tools.requireTool("losetup", "mount");
        Tools.requireTool("mount", "mount");
        Tools.requireTool("umount", "mount");
        fs = LoopExt4.create(dir.resolve("secondary.img"), 24L << 20, dir.resolve("mnt"));
    }

    @AfterEach
    void detach() {
        if (fs != null) {
            fs.close();
        }
    }

    @Test
    void aSetStoppedByAFullSecondaryTakesWritesAgainOnceSpaceIsFreedWithEveryAcknowledgedWrite() throws Exception {
        Random random = new Random(22);
        try (RewindServe serve = RewindServe.create(dir, "data", "1M")) {
            serve.inProcess("lv", "create", "small", "--vg", "vg0", "--size", "2M");
            serve.inProcess("set", "create", SET, "--member", "vg0/small", "--secondary", fs.mountPoint.resolve(SET).toString());
            serve.start("--retry-stopped-up-to", "2s");
            byte[] acknowledged = new byte[MEMBER_BYTES];

            // history before the failure: written, flushed, its seq remembered
            long pointBefore;
            byte[] imageBefore;
            try (NbdTestClient client = NbdTestClient.open(serve.port(), EXPORT)) {
                for (int i = 0; i < 8; i++) {
                    assertEquals(0, write(client, random, acknowledged, i), "write " + i + " before the secondary fills");
                }
                assertEquals(0, flush(client, 100));
            }
            pointBefore = serve.json("status", SET, "--json").get("sets").get(0).get("lastSeq").asLong();
            imageBefore = acknowledged.clone();

            // the secondary fills up: a filler file leaves it 1 MiB, then writes come until one is refused
            Path filler = fs.mountPoint.resolve("filler");
            fs.fill(filler, 1 << 20);
            byte[] ifTheRefusedWriteSurvived = null;
            try (NbdTestClient client = NbdTestClient.open(serve.port(), EXPORT)) {
                int refusedAt = -1;
                for (int i = 0; i < 1000 && refusedAt < 0; i++) {
                    byte[] before = acknowledged.clone();
                    if (write(client, random, acknowledged, i) != 0) {
                        refusedAt = i;
                        // a write that got an error was never acknowledged; recovery may keep it or not
                        ifTheRefusedWriteSurvived = acknowledged.clone();
                        System.arraycopy(before, 0, acknowledged, 0, acknowledged.length);
                    }
                }
                assertTrue(refusedAt >= 0, "a write was refused once the secondary was full");
                assertNotEquals(0, write(client, random, acknowledged.clone(), 2000), "the next write is refused too");
                assertNotEquals(0, flush(client, 2001), "a flush claims nothing while the set is stopped");
            }

            JsonNode stopped = serve.json("status", SET, "--json").get("sets").get(0);
            assertEquals("stopped", stopped.get("state").asText(), stopped.toString());
            assertTrue(stopped.get("stoppedBecause").asText().contains("No space left on device"), "status says why: " + stopped);
            assertTrue(stopped.get("retry").has("nextAttemptAt"), "status says when it is tried again: " + stopped);
            String text = serve.ok("status", SET).out();
            assertTrue(text.lines().anyMatch(l -> l.contains("STOPPED since") && l.contains("No space left on device")
                    && l.contains("retries it by itself, next at")), text);

            // space is freed: nothing restarted, nothing reopened by hand, the set takes writes again
            Files.delete(filler);
            long deadline = System.nanoTime() + BACK_WITHIN.toNanos();
            JsonNode status;
            while (!(status = serve.json("status", SET, "--json").get("sets").get(0)).get("state").asText().equals("online")) {
                if (System.nanoTime() > deadline) {
                    fail("the set is not back " + BACK_WITHIN + " after space was freed: " + status + "\n" + serve.log());
                }
            }
            assertTrue(status.get("retry").isNull(), status.toString());
            try (NbdTestClient client = NbdTestClient.open(serve.port(), EXPORT)) {
                byte[] image = read(client, 0, MEMBER_BYTES);
                if (!java.util.Arrays.equals(image, acknowledged)) {
                    assertArrayEquals(ifTheRefusedWriteSurvived, image, "after recovery the set holds every acknowledged write "
                            + "(and the refused one at most)");
                    acknowledged = ifTheRefusedWriteSurvived;
                }
                for (int i = 0; i < 4; i++) {
                    assertEquals(0, write(client, random, acknowledged, 3000 + i), "write " + i + " after it came back");
                }
                assertEquals(0, flush(client, 3100));
                assertArrayEquals(acknowledged, read(client, 0, MEMBER_BYTES), "every acknowledged write reads back");
            }
            try (NbdTestClient past = NbdTestClient.open(serve.port(), EXPORT + "@" + pointBefore)) {
                assertArrayEquals(imageBefore, read(past, 0, MEMBER_BYTES), "the history before the failure is intact (seq "
                        + pointBefore + ")");
            }
            String log = serve.log();
            assertEquals(1, log.lines().filter(l -> l.contains("set " + SET + ": I/O error")).count(), "one line when it stops:\n" + log);
            assertEquals(1, log.lines().filter(l -> l.contains("set " + SET + " takes writes again")).count(),
                    "one line when it is back:\n" + log);
        }
    }

    @Test
    void aSetStoppedByAReadOnlySecondaryLetsGoOfItAndTakesWritesAgainOnceItIsMountedWritable() throws Exception {
        String nbdinfo = Tools.requireTool("nbdinfo", "libnbd-bin");
        Tools.requireTool("e2fsck", "e2fsprogs");
        Random random = new Random(23);
        try (RewindServe serve = RewindServe.create(dir, "data", "1M")) {
            serve.inProcess("lv", "create", "small", "--vg", "vg0", "--size", "2M");
            serve.inProcess("set", "create", SET, "--member", "vg0/small", "--secondary", fs.mountPoint.resolve(SET).toString());
            serve.start("--retry-stopped-up-to", "2s");
            byte[] acknowledged = new byte[MEMBER_BYTES];
            try (NbdTestClient client = NbdTestClient.open(serve.port(), EXPORT)) {
                for (int i = 0; i < 8; i++) {
                    assertEquals(0, write(client, random, acknowledged, i), "write " + i);
                }
                assertEquals(0, flush(client, 100));
            }
            long pointBefore = serve.json("status", SET, "--json").get("sets").get(0).get("lastSeq").asLong();
            byte[] imageBefore = acknowledged.clone();

            try (NbdTestClient client = NbdTestClient.open(serve.port(), EXPORT)) {
                for (int i = 0; i < 4; i++) {
                    assertEquals(0, write(client, random, acknowledged, 200 + i), "write " + i + " after the point");
                }
                assertEquals(0, flush(client, 300));
                fs.turnReadOnlyAfterAnError();
                assertNotEquals(0, write(client, random, acknowledged.clone(), 400), "a write to a set on a read-only secondary is refused");
            }

            long deadline = System.nanoTime() + BACK_WITHIN.toNanos();
            JsonNode stopped;
            while (!(stopped = serve.json("status", SET, "--json").get("sets").get(0)).path("retry").path("secondaryReleased").asBoolean()) {
                if (System.nanoTime() > deadline) {
                    fail("the set did not let go of its read-only secondary: " + stopped + "\n" + serve.log());
                }
            }
            assertEquals("stopped", stopped.get("state").asText(), stopped.toString());
            assertTrue(stopped.get("stoppedBecause").asText().contains("Read-only file system"), "status says why: " + stopped);
            String text = serve.ok("status", SET).out();
            assertTrue(text.lines().anyMatch(l -> l.startsWith("set " + SET + ": STOPPED since") && l.contains("Read-only file system")
                    && l.contains("its files are closed") && l.contains("retries it by itself, next at")), text);
            Tools.Result refused = Tools.run(TOOL_TIMEOUT, List.of(nbdinfo, serve.uri(EXPORT)));
            assertNotEquals(0, refused.exit(), "its export is refused meanwhile: " + refused.describe());

            // what an administrator does: unmount (nothing holds it), check, mount writable again; nothing restarted
            fs.umount();
            fs.check();
            fs.mount();
            deadline = System.nanoTime() + BACK_WITHIN.toNanos();
            JsonNode status;
            while (!(status = serve.json("status", SET, "--json").get("sets").get(0)).get("state").asText().equals("online")) {
                if (System.nanoTime() > deadline) {
                    fail("the set is not back " + BACK_WITHIN + " after its secondary was mounted again: " + status + "\n" + serve.log());
                }
            }
            try (NbdTestClient client = NbdTestClient.open(serve.port(), EXPORT)) {
                assertArrayEquals(acknowledged, read(client, 0, MEMBER_BYTES), "every acknowledged write is there");
                for (int i = 0; i < 4; i++) {
                    assertEquals(0, write(client, random, acknowledged, 500 + i), "write " + i + " after it came back");
                }
                assertEquals(0, flush(client, 600));
                assertArrayEquals(acknowledged, read(client, 0, MEMBER_BYTES), "every acknowledged write reads back");
            }
            try (NbdTestClient past = NbdTestClient.open(serve.port(), EXPORT + "@" + pointBefore)) {
                assertArrayEquals(imageBefore, read(past, 0, MEMBER_BYTES), "the history before the failure is intact (seq "
                        + pointBefore + ")");
            }
            String log = serve.log();
            assertEquals(1, log.lines().filter(l -> l.contains("set " + SET + " takes writes again")).count(),
                    "one line when it is back:\n" + log);
        }
    }

    /** Writes 64 KiB of random data at a random 4 KiB-aligned offset; applies it to {@code model} when it succeeds. Returns the NBD error. */
    private static int write(NbdTestClient client, Random random, byte[] model, long handle) throws IOException {
        byte[] data = new byte[WRITE_BYTES];
        random.nextBytes(data);
        long offset = (long) random.nextInt((MEMBER_BYTES - WRITE_BYTES) / 4096) * 4096;
        client.writeRequest(0, handle, offset, data);
        NbdTestClient.SimpleReply reply = client.readSimpleReply();
        assertEquals(handle, reply.handle());
        if (reply.error() == 0) {
            System.arraycopy(data, 0, model, (int) offset, data.length);
        }
        return reply.error();
    }

    private static int flush(NbdTestClient client, long handle) throws IOException {
        client.request(0, CMD_FLUSH, handle, 0, 0);
        NbdTestClient.SimpleReply reply = client.readSimpleReply();
        assertEquals(handle, reply.handle());
        return reply.error();
    }

    private static byte[] read(NbdTestClient client, long offset, int length) throws IOException {
        byte[] all = new byte[length];
        for (int at = 0; at < length; at += 1 << 20) {
            int n = Math.min(1 << 20, length - at);
            client.request(0, CMD_READ, at, offset + at, n);
            NbdTestClient.SimpleReply reply = client.readSimpleReply();
            assertEquals(0, reply.error(), "read at " + (offset + at));
            client.in.readFully(all, at, n);
        }
        return all;
    }

    /**
     * A small ext4 file system in an image file, on a loop device, mounted. Closing unmounts it
     * and detaches the loop device, whatever state the test left them in.
     */
    static final class LoopExt4 implements AutoCloseable {
        final Path image;
        final Path mountPoint;
        String loop;
        boolean mounted;

        private LoopExt4(Path image, Path mountPoint) {
            this.image = image;
            this.mountPoint = mountPoint;
        }

        /** No blocks reserved for root, so that root fills it as anyone would. */
        static LoopExt4 create(Path image, long sizeBytes, Path mountPoint) throws IOException {
            try (FileChannel c = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                c.write(ByteBuffer.allocate(1), sizeBytes - 1);
            }
            Tools.run(TOOL_TIMEOUT, "mkfs.ext4", "-q", "-F", "-m", "0", image.toString()).assertOk();
            LoopExt4 fs = new LoopExt4(image, mountPoint);
            try {
                fs.loop = Tools.run(TOOL_TIMEOUT, "losetup", "-f", "--show", image.toString()).assertOk().out().strip();
                Files.createDirectories(mountPoint);
                fs.mount();
                return fs;
            } catch (RuntimeException | Error e) {
                fs.close();
                throw e;
            }
        }

        /** Mounted as a database host would: an error turns it read-only. */
        void mount() {
            Tools.run(TOOL_TIMEOUT, "mount", "-o", "errors=remount-ro", loop, mountPoint.toString()).assertOk();
            mounted = true;
        }

        /** Unmounts it; fails if anything still holds it. */
        void umount() {
            Tools.run(TOOL_TIMEOUT, "umount", mountPoint.toString()).assertOk();
            mounted = false;
        }

        /** Reports an error to ext4 through sysfs, which turns it read-only (EROFS) until it is unmounted. */
        void turnReadOnlyAfterAnError() throws IOException {
            Path trigger = Path.of("/sys/fs/ext4", Path.of(loop).getFileName().toString(), "trigger_fs_error");
            if (!Files.exists(trigger)) {
                Tools.unavailable(trigger + " does not exist: this kernel cannot report an ext4 error on request");
            }
            Files.writeString(trigger, "StoppedSetRecoveryIT\n");
        }

        /** e2fsck -fy on the unmounted file system: 0 (clean) or 1 (errors corrected). */
        void check() {
            Tools.Result r = Tools.run(TOOL_TIMEOUT, "e2fsck", "-fy", loop);
            assertTrue(r.exit() == 0 || r.exit() == 1, r.describe());
        }

        /** Writes {@code file} (forced) until only about {@code leaveBytes} are free. */
        void fill(Path file, long leaveBytes) throws IOException {
            long free = Files.getFileStore(mountPoint).getUsableSpace();
            long size = Math.max(0, free - leaveBytes);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            try (FileChannel c = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (long at = 0; at < size; at += chunk.capacity()) {
                    chunk.clear().limit((int) Math.min(chunk.capacity(), size - at));
                    while (chunk.hasRemaining()) {
                        c.write(chunk, at + chunk.position());
                    }
                }
                c.force(true);
            }
        }

        @Override
        public void close() {
            if (mounted && Tools.run(TOOL_TIMEOUT, "umount", mountPoint.toString()).exit() != 0) {
                Tools.run(TOOL_TIMEOUT, "umount", "-l", mountPoint.toString());
            }
            mounted = false;
            if (loop != null) {
                Tools.run(TOOL_TIMEOUT, "losetup", "-d", loop);
                loop = null;
            }
        }
    }
}
