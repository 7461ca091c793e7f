package dev.rewind.cli.nbd;

import static dev.rewind.cli.nbd.RewindServe.SET;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.nbd.NbdProtocol;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.nbd.NbdWire;
import dev.rewind.testfixtures.tls.TestCertificates;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may write over TCP, with {@code rewind serve} and real clients: without {@code --insecure}
 * a TCP client, on loopback too, gets every export read-only (NBD_FLAG_READ_ONLY, writes EPERM)
 * unless {@code --tls-verify-peer} checked its certificate; the database host's owner still
 * writes through the Unix socket; {@code --insecure} lets every TCP client write.
 */
class ServeTcpWritesIT {
    private static final String EXPORT = SET + "/data";
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path tmp;

    @Test
    void withoutACheckedCertificateTcpClientsOnLoopbackGetEveryExportReadOnly() throws Exception {
        try (RewindServe serve = RewindServe.create(tmp, "data", "4M").tcpWritesNeedCertificates()) {
            serve.start();
            byte[] data = NbdWire.pattern(4096, 9);
            try (NbdTestClient c = NbdTestClient.open(serve.port(), EXPORT)) {
                assertTrue(c.isReadOnly(), "NBD_FLAG_READ_ONLY");
                assertEquals(NbdProtocol.EPERM, c.write(0, data));
            }
            Tools.Result info = Tools.run(TOOL_TIMEOUT, Tools.requireTool("nbdinfo", "libnbd-bin"), serve.tcpUri(EXPORT));
            assertTrue(info.assertOk().out().contains("is_read_only: true"), info.describe());
            Tools.Result write = Tools.run(TOOL_TIMEOUT, Tools.requireTool("qemu-io", "qemu-utils"), "-f", "raw", serve.tcpUri(EXPORT),
                    "-c", "write -P 0x33 0 4k");
            assertTrue(write.exit() != 0 || write.output().contains("rror"), "qemu-io's write over TCP fails: " + write.describe());
            Tools.Result unix = Tools.run(TOOL_TIMEOUT, Tools.requireTool("qemu-io", "qemu-utils"), "-f", "raw", serve.uri(EXPORT),
                    "-c", "write -P 0x44 0 4k");
            assertFalse(unix.assertOk().output().contains("rror"), "the owner writes through the Unix socket: " + unix.describe());
            assertEquals(1, serve.status().get("lastSeq").asLong(), "only the Unix socket's write was captured: " + serve.status());
        }
    }

    @Test
    void aClientCertificateCheckedByTlsVerifyPeerMayWriteOverTcp() throws Exception {
        TestCertificates certs = TestCertificates.make(tmp.resolve("certs"), TestCertificates.KeyFormat.PKCS8_RSA);
        try (RewindServe serve = RewindServe.create(tmp.resolve("serve"), "data", "4M").tcpWritesNeedCertificates()) {
            serve.start("--tls", "on", "--tls-certificates", certs.server().toString(), "--tls-verify-peer");
            byte[] data = NbdWire.pattern(4096, 10);
            try (NbdTestClient c = NbdTestClient.openTls(serve.port(), EXPORT, TestCertificates.clientContext(certs.client(), true))) {
                assertFalse(c.isReadOnly());
                assertEquals(0, c.write(0, data));
                assertArrayEquals(data, c.read(0, data.length));
            }
            try (NbdTestClient plain = NbdTestClient.open(serve.port(), EXPORT)) {
                assertTrue(plain.isReadOnly(), "a plain client of the same port is read-only");
            }
        }
    }

    @Test
    void insecureLetsEveryTcpClientWrite() throws Exception {
        try (RewindServe serve = RewindServe.create(tmp, "data", "4M")) {
            serve.start(); // the fixture adds --insecure
            assertTrue(serve.log().contains("--insecure"), serve.log());
            byte[] data = NbdWire.pattern(4096, 11);
            try (NbdTestClient c = NbdTestClient.open(serve.port(), EXPORT)) {
                assertFalse(c.isReadOnly());
                assertEquals(0, c.write(0, data));
            }
            assertNotEquals(0, serve.status().get("lastSeq").asLong());
        }
    }
}
