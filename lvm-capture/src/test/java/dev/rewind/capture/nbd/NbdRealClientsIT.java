package dev.rewind.capture.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real, unmodified NBD clients against the server over a captured set: libnbd's nbdcopy
 * (several connections, many requests in flight) and nbdinfo, qemu-img and qemu-io, and fio's
 * nbd engine. Each skips without its binary, and fails instead under CI=true. The clients
 * connect over the server's Unix socket (as they do to {@code rewind serve} by default); one
 * case lists the exports over TCP too.
 */
class NbdRealClientsIT {
    private static final int M0_BYTES = 4 << 20;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path tmp;

    private TestSet testSet;
    private CapturedSet set;
    private NbdServer server;

    @BeforeEach
    void startServer() throws IOException {
        testSet = TestSet.create(tmp.resolve("set"), "s", M0_BYTES, 2 << 20);
        set = testSet.open();
        server = NbdServer.start(List.of(UnixDomainSocketAddress.of(tmp.resolve("nbd.sock")), new InetSocketAddress("127.0.0.1", 0)),
                new CapturedSetExports(Map.of("s", set), (setName, bookmark) -> OptionalLong.empty()), NbdServer.Settings.DEFAULT);
    }

    @AfterEach
    void stopServer() throws IOException {
        server.close();
        set.close();
        testSet.close();
    }

    private String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + tmp.resolve("nbd.sock");
    }

    @Test
    void nbdcopyRoundTripsAnImageOverFourConnections() throws Exception {
        Path nbdcopy = Tools.require("nbdcopy", "libnbd-bin");
        byte[] image = new byte[M0_BYTES];
        new Random(7).nextBytes(image);
        Path in = Files.write(tmp.resolve("in.img"), image);
        Path out = tmp.resolve("out.img");
        Tools.Result up = Tools.run(TIMEOUT, List.of(nbdcopy.toString(), "--connections=4", "--requests=32",
                "--request-size=65536", in.toString(), uri("s/m0")));
        assertEquals(0, up.exitCode(), up.output());
        Tools.Result down = Tools.run(TIMEOUT, List.of(nbdcopy.toString(), "--connections=4", uri("s/m0"), out.toString()));
        assertEquals(0, down.exitCode(), down.output());
        assertArrayEquals(image, Files.readAllBytes(out));
        ByteBuffer primary = ByteBuffer.allocate(M0_BYTES);
        set.device("m0").read(0, primary);
        assertArrayEquals(image, primary.array(), "every write went through the set");
        assertEquals(set.lastSeq(), set.flushedSeq(), "nbdcopy's final flush made every write durable");
    }

    @Test
    void qemuImgFindsThePastExportEqualToTheImageOfThatTime() throws Exception {
        Path qemuIo = Tools.require("qemu-io", "qemu-utils");
        Path qemuImg = Tools.require("qemu-img", "qemu-utils");
        Tools.Result first = Tools.run(TIMEOUT, List.of(qemuIo.toString(), "-f", "raw", uri("s/m0"),
                "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 3M 64k"));
        assertEquals(0, first.exitCode(), first.output());
        long then = set.lastSeq();
        Path thenImage = tmp.resolve("then.img");
        Tools.Result convert = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "convert", "-f", "raw", "-O", "raw",
                uri("s/m0"), thenImage.toString()));
        assertEquals(0, convert.exitCode(), convert.output());
        Tools.Result later = Tools.run(TIMEOUT, List.of(qemuIo.toString(), "-f", "raw", uri("s/m0"),
                "-c", "write -P 0x33 512k 1M", "-c", "write -z 3M 64k"));
        assertEquals(0, later.exitCode(), later.output());

        Tools.Result past = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "compare", "-f", "raw", "-F", "raw",
                thenImage.toString(), uri("s/m0@" + then)));
        assertEquals(0, past.exitCode(), past.output());
        Tools.Result present = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "compare", "-f", "raw", "-F", "raw",
                thenImage.toString(), uri("s/m0")));
        assertEquals(1, present.exitCode(), "the member has changed since: " + present.output());
        Tools.Result refused = Tools.run(TIMEOUT, List.of(qemuIo.toString(), "-f", "raw", uri("s/m0@" + then),
                "-c", "write -P 0x44 0 4k"));
        assertTrue(refused.exitCode() != 0 || refused.output().contains("rror"), "a write to the past is refused: " + refused.output());
        assertEquals(0, Tools.run(TIMEOUT, List.of(qemuImg.toString(), "compare", "-f", "raw", "-F", "raw",
                thenImage.toString(), uri("s/m0@" + then))).exitCode(), "and changed nothing");
    }

    @Test
    void nbdinfoMapsTheMemberAsAllocatedData() throws Exception {
        Path nbdinfo = Tools.require("nbdinfo", "libnbd-bin");
        Tools.Result map = Tools.run(TIMEOUT, List.of(nbdinfo.toString(), "--map", uri("s/m1")));
        assertEquals(0, map.exitCode(), map.output());
        assertTrue(map.output().trim().matches("0\\s+2097152\\s+0\\s+data"), map.output());
        Tools.Result info = Tools.run(TIMEOUT, List.of(nbdinfo.toString(), uri("s/m1@0")));
        assertEquals(0, info.exitCode(), info.output());
        assertTrue(info.output().contains("is_read_only: true"), info.output());
        Tools.Result missing = Tools.run(TIMEOUT, List.of(nbdinfo.toString(), uri("s/m1@12345")));
        assertTrue(missing.exitCode() != 0, missing.output());
    }

    @Test
    void qemuImgShowsWhyAnUnknownOrMalformedPointIsRefused() throws Exception {
        Path qemuImg = Tools.require("qemu-img", "qemu-utils");
        Map<String, String> reasons = Map.of("s/m1@bookmark:nope", "no bookmark named nope", "s/m1@999999999", "beyond the newest write",
                "s/m1@yesterday", "not a point in time");
        for (Map.Entry<String, String> e : reasons.entrySet()) {
            Tools.Result r = Tools.run(TIMEOUT, List.of(qemuImg.toString(), "info", "-f", "raw", uri(e.getKey())));
            assertTrue(r.exitCode() != 0, r.output());
            assertTrue(r.output().contains(e.getValue()), e.getKey() + ": qemu-img shows the server's reason: " + r.output());
        }
    }

    @Test
    void fioVerifiesRandomWritesWithManyRequestsInFlight() throws Exception {
        Path fio = Tools.require("fio", "fio");
        Tools.Result r = Tools.run(TIMEOUT, List.of(fio.toString(), "--name=rewind", "--ioengine=nbd", "--uri=" + uri("s/m0"),
                "--rw=randwrite", "--bs=4k", "--iodepth=32", "--size=" + M0_BYTES, "--verify=crc32c", "--do_verify=1",
                "--verify_fatal=1", "--verify_state_save=0", "--output-format=terse"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains(";rewind;0;"), "fio reports no error: " + r.output());
    }

    @Test
    void qemuIoWritesAndReadsBack() throws Exception {
        Path qemuIo = Tools.require("qemu-io", "qemu-utils");
        Tools.Result r = Tools.run(Duration.ofMinutes(1), List.of(qemuIo.toString(), "-f", "raw",
                uri("s/m0"), "-c", "write -P 0x5a 4096 8192", "-c", "read -P 0x5a 4096 8192"));
        assertEquals(0, r.exitCode(), r.output());
        assertFalse(r.output().contains("Pattern verification failed"), r.output());
        ByteBuffer back = ByteBuffer.allocate(8192);
        set.device("m0").read(4096, back);
        byte[] expected = new byte[8192];
        Arrays.fill(expected, (byte) 0x5a);
        assertArrayEquals(expected, back.array(), "the write went through the set");
    }

    @Test
    void nbdinfoListsEveryExportOverTheUnixSocket() throws Exception {
        assertListsEveryExport("nbd+unix:///?socket=" + tmp.resolve("nbd.sock"));
    }

    @Test
    void nbdinfoListsEveryExportOverTcp() throws Exception {
        assertListsEveryExport("nbd://127.0.0.1:" + server.port());
    }

    private void assertListsEveryExport(String uri) throws Exception {
        Path nbdinfo = Tools.require("nbdinfo", "libnbd-bin");
        Tools.Result r = Tools.run(Duration.ofMinutes(1), List.of(nbdinfo.toString(), "--list", uri));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("export=\"s/m0\""), r.output());
        assertTrue(r.output().contains("export=\"s/m1\""), r.output());
        assertTrue(r.output().contains("export-size: 4194304"), r.output());
        assertTrue(r.output().contains("block_size_maximum: 33554432"), r.output());
        assertTrue(r.output().contains("can_multi_conn: true"), r.output());
    }
}
