package dev.rewind.capture.sandbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.nbd.CapturedSetExports;
import dev.rewind.capture.nbd.NbdServer;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real, unmodified NBD clients on sandbox exports {@code <set>/<member>@sandbox:<name>}: qemu-io
 * writes and reads back; qemu-img finds a fresh sandbox identical to the past export of its seq
 * (and different once written); the live export and the journal stay as they were; nbdinfo
 * lists the sandbox exports as writable; a qemu-io connected to a sandbox that is dropped gets
 * errors, not data. Each skips without its binary, and fails instead under CI=true.
 */
class SandboxRealClientsIT {
    private static final int M0_BYTES = 4 << 20;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path tmp;

    private TestSet testSet;
    private CapturedSet set;
    private Sandboxes sandboxes;
    private NbdServer server;
    private long pastSeq;

    @BeforeEach
    void startServer() throws IOException {
        testSet = TestSet.create(tmp.resolve("set"), "s", M0_BYTES, 2 << 20);
        set = testSet.open();
        Random r = new Random(14);
        for (int i = 0; i < 40; i++) {
            byte[] data = new byte[4096 * (1 + r.nextInt(64))];
            r.nextBytes(data);
            set.devices().get(i % 2).write(4096L * r.nextInt(256), ByteBuffer.wrap(data), false);
            if (i == 24) {
                pastSeq = set.lastSeq();
            }
        }
        set.flush();
        sandboxes = Sandboxes.open(tmp.resolve("sandboxes"), testSet.catalog);
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0),
                new CapturedSetExports(Map.of("s", set), (setName, bookmark) -> OptionalLong.empty(), sandboxes), NbdServer.TcpWrites.ANY_CLIENT);
    }

    @AfterEach
    void stopServer() throws IOException {
        server.close();
        sandboxes.close();
        set.close();
        testSet.close();
    }

    private String uri(String export) {
        return "nbd://127.0.0.1:" + server.port() + "/" + export;
    }

    private static String sandboxExport(String member, String name) {
        return "s/" + member + "@" + Sandbox.EXPORT_MARK + name;
    }

    private byte[] live(String member) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) set.device(member).sizeBytes());
        set.device(member).read(0, b);
        return b.array();
    }

    @Test
    void qemuIoWritesToASandboxAndReadsBackWithoutTouchingProduction() throws Exception {
        Path qemuIo = Tools.require("qemu-io", "qemu-utils");
        Path qemuImg = Tools.require("qemu-img", "qemu-utils");
        sandboxes.create(set, "sb", pastSeq, Long.toString(pastSeq));
        set.checkpoint(); // the background checkpointer has nothing left to mark in the journal
        long lastSeq = set.lastSeq();
        byte[] liveBefore = live("m0");
        Map<String, String> journal = SandboxFiles.journalDigest(set);
        Path liveImage = tmp.resolve("live.img");
        Files.write(liveImage, liveBefore);

        Tools.Result r = Tools.run(TIMEOUT, List.of(qemuIo.toString(), "-f", "raw", uri(sandboxExport("m0", "sb")),
                "-c", "write -P 0x5a 4096 8192", "-c", "write -P 0x6b 1000 3000", "-c", "write -z 1M 64k", "-c", "flush",
                "-c", "read -P 0x6b 1000 3000", "-c", "read -P 0x5a 4096 8192", "-c", "read -P 0 1M 64k"));
        assertEquals(0, r.exitCode(), r.output());
        assertFalse(r.output().contains("Pattern verification failed"), r.output());
        assertFalse(r.output().contains("failed"), r.output());

        try (Sandbox sb = sandboxes.open(set, "sb")) {
            // [1000, 13288): the past, then 0x6b over [1000, 4000) and 0x5a over [4096, 12288)
            ByteBuffer back = ByteBuffer.allocate(12288);
            sb.member("m0").read(1000, back);
            ByteBuffer past = ByteBuffer.allocate(12288);
            set.readAt(pastSeq, 0, 1000, past);
            byte[] expected = past.array();
            Arrays.fill(expected, 0, 3000, (byte) 0x6b);
            Arrays.fill(expected, 4096 - 1000, 4096 + 8192 - 1000, (byte) 0x5a);
            assertArrayEquals(expected, back.array(), "the sandbox holds qemu-io's writes over its past");
        }
        assertEquals(lastSeq, set.lastSeq(), "no write of the sandbox was captured");
        assertEquals(journal, SandboxFiles.journalDigest(set), "the journal is byte for byte as it was");
        assertArrayEquals(liveBefore, live("m0"), "the primary is as it was");
        Tools.Result same = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "compare", "-f", "raw", "-F", "raw",
                liveImage.toString(), uri("s/m0")));
        assertEquals(0, same.exitCode(), "the live export serves what it served before: " + same.output());
    }

    @Test
    void qemuImgFindsAFreshSandboxIdenticalToThePastExportOfItsSeq() throws Exception {
        Path qemuImg = Tools.require("qemu-img", "qemu-utils");
        Path qemuIo = Tools.require("qemu-io", "qemu-utils");
        sandboxes.create(set, "fresh", pastSeq, Long.toString(pastSeq));
        for (String member : List.of("m0", "m1")) {
            Tools.Result same = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "compare", "-f", "raw", "-F", "raw",
                    uri(sandboxExport(member, "fresh")), uri("s/" + member + "@" + pastSeq)));
            assertEquals(0, same.exitCode(), member + ": a fresh sandbox is its past: " + same.output());
            Tools.Result now = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "compare", "-f", "raw", "-F", "raw",
                    uri(sandboxExport(member, "fresh")), uri("s/" + member)));
            assertEquals(1, now.exitCode(), member + ": production has changed since seq " + pastSeq + ": " + now.output());
        }
        Tools.Result w = Tools.run(TIMEOUT, List.of(qemuIo.toString(), "-f", "raw", uri(sandboxExport("m1", "fresh")),
                "-c", "write -P 0x77 300k 5k"));
        assertEquals(0, w.exitCode(), w.output());
        Tools.Result differs = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "compare", "-f", "raw", "-F", "raw",
                uri(sandboxExport("m1", "fresh")), uri("s/m1@" + pastSeq)));
        assertEquals(1, differs.exitCode(), "a written sandbox differs from its past: " + differs.output());
        Tools.Result other = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "compare", "-f", "raw", "-F", "raw",
                uri(sandboxExport("m0", "fresh")), uri("s/m0@" + pastSeq)));
        assertEquals(0, other.exitCode(), "the member not written is still its past: " + other.output());
    }

    @Test
    void nbdinfoListsTheSandboxExportsAsWritable() throws Exception {
        Path nbdinfo = Tools.require("nbdinfo", "libnbd-bin");
        sandboxes.create(set, "listed", pastSeq, Long.toString(pastSeq));
        Tools.Result list = Tools.run(TIMEOUT, List.of(nbdinfo.toString(), "--list", "nbd://127.0.0.1:" + server.port()));
        assertEquals(0, list.exitCode(), list.output());
        for (String member : List.of("m0", "m1")) {
            assertTrue(list.output().contains("export=\"" + sandboxExport(member, "listed") + "\""), list.output());
        }
        assertTrue(list.output().contains("export=\"s/m0\""), list.output());
        Tools.Result info = Tools.run(TIMEOUT, List.of(nbdinfo.toString(), uri(sandboxExport("m0", "listed"))));
        assertEquals(0, info.exitCode(), info.output());
        assertTrue(info.output().contains("is_read_only: false"), info.output());
        assertTrue(info.output().contains("export-size: " + M0_BYTES), info.output());
        sandboxes.drop("s", "listed");
        Tools.Result after = Tools.run(TIMEOUT, List.of(nbdinfo.toString(), "--list", "nbd://127.0.0.1:" + server.port()));
        assertEquals(0, after.exitCode(), after.output());
        assertFalse(after.output().contains("@" + Sandbox.EXPORT_MARK), "a dropped sandbox is not listed: " + after.output());
        Tools.Result gone = Tools.run(TIMEOUT, List.of(nbdinfo.toString(), uri(sandboxExport("m0", "listed"))));
        assertTrue(gone.exitCode() != 0, "a dropped sandbox's export is refused: " + gone.output());
    }

    @Test
    void aClientOnADroppedSandboxGetsErrorsNotData() throws Exception {
        Path qemuIo = Tools.require("qemu-io", "qemu-utils");
        sandboxes.create(set, "doomed", pastSeq, Long.toString(pastSeq));
        Process p = new ProcessBuilder(qemuIo.toString(), "-f", "raw", uri(sandboxExport("m0", "doomed")))
                .redirectErrorStream(true).start();
        try (Interactive q = new Interactive(p)) {
            q.send("write -P 0x42 0 64k");
            q.await("wrote 65536/65536");
            q.send("read -P 0x42 0 64k");
            q.await("read 65536/65536");
            assertFalse(q.output().contains("failed"), q.output());

            sandboxes.drop("s", "doomed");
            assertTrue(sandboxes.list("s").isEmpty(), "the sandbox is dropped");

            int mark = q.output().length();
            q.send("read 0 64k");
            q.send("write -P 0x43 64k 4k");
            q.send("quit");
            q.endInput();
            q.awaitExit();
            String after = q.output().substring(mark);
            assertTrue(after.contains("read failed"), "a read after the drop fails: " + after);
            assertFalse(after.contains("read 65536/65536"), "and returns no data: " + after);
            assertFalse(after.contains("wrote 4096/4096"), "a write after the drop is not acknowledged: " + after);
        }
        assertFalse(sandboxes.isOpen("s", "doomed"), "the dropped sandbox is open no more");
    }

    /** qemu-io driven line by line through its stdin; killed on close if still running. */
    private static final class Interactive implements AutoCloseable {
        private final Process p;
        private final OutputStream in;
        private final StringBuilder out = new StringBuilder();
        private final Thread reader;

        Interactive(Process p) {
            this.p = p;
            this.in = p.getOutputStream();
            this.reader = new Thread(() -> {
                byte[] buf = new byte[4096];
                try (InputStream s = p.getInputStream()) {
                    for (int n; (n = s.read(buf)) > 0; ) {
                        synchronized (out) {
                            out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                            out.notifyAll();
                        }
                    }
                } catch (IOException e) {
                    // the process is gone
                }
            }, "qemu-io-output");
            reader.setDaemon(true);
            reader.start();
        }

        void send(String line) throws IOException {
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        }

        void endInput() throws IOException {
            in.close();
        }

        String output() {
            synchronized (out) {
                return out.toString();
            }
        }

        void await(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            synchronized (out) {
                while (out.indexOf(text) < 0) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0 || !p.isAlive() && !reader.isAlive()) {
                        fail("qemu-io never printed '" + text + "':\n" + out);
                    }
                    out.wait(Math.min(left, 200));
                }
            }
        }

        void awaitExit() throws InterruptedException {
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("qemu-io did not quit:\n" + output());
            }
            reader.join(TIMEOUT.toMillis());
        }

        @Override
        public void close() {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
    }
}
