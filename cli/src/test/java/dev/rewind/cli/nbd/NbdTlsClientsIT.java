package dev.rewind.cli.nbd;

import static dev.rewind.cli.nbd.RewindServe.SET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.nbd.NbdProtocol;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.nbd.NbdWire;
import dev.rewind.testfixtures.tls.TestCertificates;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind serve --listen 127.0.0.1:PORT --tls require --tls-verify-peer} with
 * certificates openssl makes for the test (server key in PKCS#1 form, as older openssl and
 * certtool write it), driven by real clients over TLS: libnbd's {@code nbdinfo} and
 * {@code nbdcopy} with {@code nbds://} URIs, {@code qemu-io} and {@code qemu-img compare} with
 * {@code --object tls-creds-x509}. A plain client gets NBD_REP_ERR_TLS_REQD and no data, a
 * client certificate of another CA is refused, and the start-up refusals are one line.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NbdTlsClientsIT {
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
    private static final String EXPORT = SET + "/data";

    Path dir;
    RewindServe serve;
    TestCertificates certs;

    @BeforeAll
    void startServe(@TempDir Path tempDir) {
        dir = tempDir;
        certs = TestCertificates.make(dir.resolve("certs"), TestCertificates.KeyFormat.PKCS1_RSA);
        serve = RewindServe.create(dir, "data", "16M").tcpWritesNeedCertificates(); // the checked certificates let the clients write
        serve.start("--tls", "require", "--tls-certificates", certs.server().toString(), "--tls-verify-peer");
    }

    @AfterAll
    void stopServe() {
        if (serve != null && serve.isRunning()) {
            int exit = serve.stop();
            assertTrue(exit == 0 || exit == 143, "rewind serve exited with status " + exit + " on SIGTERM:\n" + serve.log());
        }
        if (serve != null) {
            System.out.println("NbdTlsClientsIT: rewind serve printed:\n" + serve.log());
            assertFalse(serve.log().contains("Exception"), () -> "rewind serve printed an exception:\n" + serve.log());
        }
    }

    private String nbds(String export, Path clientDir) {
        return "nbds://127.0.0.1:" + serve.port() + "/" + export + "?tls-certificates=" + clientDir;
    }

    /** {@code tool [SUBCOMMAND] --object tls-creds-x509,... args} (qemu-img takes its subcommand first, qemu-io has none). */
    private List<String> qemuTls(String tool, Path clientDir, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(Tools.requireTool(tool, "qemu-utils")));
        int first = tool.equals("qemu-img") ? 1 : 0;
        cmd.addAll(List.of(args).subList(0, first));
        cmd.addAll(List.of("--object", "tls-creds-x509,id=tls0,dir=" + clientDir + ",endpoint=client"));
        cmd.addAll(List.of(args).subList(first, args.length));
        return cmd;
    }

    private String qemuImageOpts() {
        return "driver=nbd,host=127.0.0.1,port=" + serve.port() + ",export=" + EXPORT + ",tls-creds=tls0";
    }

    @Test
    void nbdinfoOverNbdsSeesTheExport() {
        Tools.Result r = Tools.run(TOOL_TIMEOUT, Tools.requireTool("nbdinfo", "libnbd-bin"), nbds(EXPORT, certs.client()));
        assertEquals(0, r.exit(), r::describe);
        assertTrue(r.out().contains("16777216"), r::describe);
    }

    @Test
    void qemuIoWritesAndReadsBackOverTlsAndQemuImgComparesACopy() {
        Tools.Result io = Tools.run(TOOL_TIMEOUT, qemuTls("qemu-io", certs.client(), "--image-opts", qemuImageOpts(),
                "-c", "write -P 0x5a 1M 2M", "-c", "flush", "-c", "read -P 0x5a 1M 2M", "-c", "read -P 0 0 1M"));
        assertEquals(0, io.exit(), io::describe);
        assertFalse(io.output().contains("Pattern verification failed"), io::describe);

        Path copy = dir.resolve("copy.img");
        Tools.Result nbdcopy = Tools.run(TOOL_TIMEOUT, Tools.requireTool("nbdcopy", "libnbd-bin"), nbds(EXPORT, certs.client()),
                copy.toString());
        assertEquals(0, nbdcopy.exit(), nbdcopy::describe);
        Tools.Result compare = Tools.run(TOOL_TIMEOUT, qemuTls("qemu-img", certs.client(), "compare", "--image-opts",
                qemuImageOpts(), "driver=raw,file.filename=" + copy));
        assertEquals(0, compare.exit(), compare::describe);
        Tools.Result info = Tools.run(TOOL_TIMEOUT, qemuTls("qemu-img", certs.client(), "info", "--image-opts", qemuImageOpts()));
        assertEquals(0, info.exit(), info::describe);
        assertTrue(info.out().contains("16 MiB"), info::describe);
    }

    @Test
    void clientWithoutTlsGetsTlsRequiredAndNoData() throws IOException {
        Tools.Result plain = Tools.run(TOOL_TIMEOUT, Tools.requireTool("nbdinfo", "libnbd-bin"),
                "nbd://127.0.0.1:" + serve.port() + "/" + EXPORT);
        assertNotEquals(0, plain.exit(), plain::describe);
        try (NbdTestClient c = NbdTestClient.connect(serve.port())) {
            List<NbdTestClient.OptionReply> replies = c.option(NbdProtocol.OPT_GO, NbdWire.infoData(EXPORT));
            assertEquals(1, replies.size(), "no NBD_REP_INFO before the refusal");
            assertEquals(NbdProtocol.REP_ERR_TLS_REQD, replies.get(0).type(), replies.get(0).text());
            c.out.write(NbdWire.exportName(EXPORT));
            c.out.flush();
            assertEquals(0, c.readToEnd().length, "NBD_OPT_EXPORT_NAME without TLS: disconnected, no export data");
        }
    }

    @Test
    void clientCertificateOfAnotherCaIsRefused() {
        Tools.Result r = Tools.run(TOOL_TIMEOUT, Tools.requireTool("nbdinfo", "libnbd-bin"), nbds(EXPORT, certs.otherClient()));
        assertNotEquals(0, r.exit(), r::describe);
        assertFalse(r.out().contains("16777216"), r::describe);
    }

    @Test
    void unreadableCertificatesAndUnprotectedAddressesAreRefusedAtStart() {
        Tools.Result missing = serve.rewind("serve", "--listen", "127.0.0.1:0", "--tls", "require", "--tls-certificates",
                dir.resolve("no-such-dir").toString());
        assertNotEquals(0, missing.exit(), missing::describe);
        assertEquals(1, missing.err().strip().lines().count(), missing::describe);
        assertTrue(missing.err().contains("no-such-dir"), missing::describe);

        Tools.Result open = serve.rewind("serve", "--listen", "0.0.0.0:0");
        assertNotEquals(0, open.exit(), open::describe);
        assertTrue(open.err().contains("not loopback") && open.err().contains("--insecure"), open::describe);
        assertEquals(1, open.err().strip().lines().count(), open::describe);

        Tools.Result noListen = serve.rewind("serve", "--tls", "require", "--tls-certificates", certs.server().toString());
        assertNotEquals(0, noListen.exit(), noListen::describe);
        assertTrue(noListen.err().contains("--listen"), noListen::describe);

        // --insecure starts (and here stops at the lock the running daemon holds), saying out loud what it allows
        Tools.Result insecure = serve.rewind("serve", "--listen", "0.0.0.0:0", "--insecure");
        assertTrue(insecure.output().contains("serving NBD over TCP without TLS: anyone who reaches 0.0.0.0:0 can read and write the volumes"),
                insecure::describe);
    }
}
