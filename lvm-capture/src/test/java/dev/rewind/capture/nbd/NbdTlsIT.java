package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;
import static dev.rewind.testfixtures.nbd.NbdWire.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.nbd.NbdTestClient.OptionReply;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.testfixtures.tls.TestCertificates;
import dev.rewind.testfixtures.tls.TestCertificates.KeyFormat;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * NBD_OPT_STARTTLS against the spec's "TLS support" section, with certificates openssl makes
 * for the test ({@link TestCertificates}) and the raw-socket test client, which sees every
 * reply: FORCEDTLS answers options before TLS with NBD_REP_ERR_TLS_REQD and serves no data,
 * the handshake starts right after the ACK, a second STARTTLS or one with data is invalid,
 * client certificates are checked against the CA under verify-peer, and the server's key is
 * read in each PEM form openssl writes.
 */
class NbdTlsIT {
    private static final long M0_BYTES = 4 << 20;

    @TempDir
    Path tmp;

    private TestSet testSet;
    private CapturedSet set;
    private NbdServer server;
    private TestCertificates certs;

    @BeforeEach
    void openSet() throws IOException {
        testSet = TestSet.create(tmp.resolve("set"), "s", M0_BYTES);
        set = testSet.open();
    }

    @AfterEach
    void close() throws IOException {
        if (server != null) {
            server.close();
        }
        set.close();
        testSet.close();
    }

    private int serve(NbdTls.Mode mode, KeyFormat key, boolean verifyPeer) throws IOException {
        return serve(mode, key, verifyPeer, NbdServer.TcpWrites.ANY_CLIENT);
    }

    private int serve(NbdTls.Mode mode, KeyFormat key, boolean verifyPeer, NbdServer.TcpWrites writes) throws IOException {
        certs = TestCertificates.make(tmp.resolve("certs"), key);
        NbdTls tls = NbdTls.load(mode, certs.server(), verifyPeer);
        server = NbdServer.start(List.of(new InetSocketAddress("127.0.0.1", 0)),
                new CapturedSetExports(Map.of("s", set), (s, b) -> OptionalLong.empty()), NbdServer.Settings.DEFAULT, tls, writes);
        return server.port();
    }

    @Test
    void onlyAClientWhoseCertificateTheServerCheckedMayWriteOverTcp() throws IOException {
        int port = serve(NbdTls.Mode.ON, KeyFormat.PKCS8_RSA, true, NbdServer.TcpWrites.VERIFIED_CLIENTS);
        byte[] data = pattern(4096, 5);
        try (NbdTestClient plain = NbdTestClient.open(port, "s/m0")) {
            assertTrue(plain.isReadOnly(), "NBD_FLAG_READ_ONLY for a plain client on loopback");
            assertEquals(EPERM, plain.write(0, data), "its write is refused");
        }
        try (NbdTestClient verified = NbdTestClient.openTls(port, "s/m0", client(true))) {
            assertFalse(verified.isReadOnly(), "writable for a client whose certificate was checked");
            assertEquals(0, verified.write(0, data));
            assertEquals(0, verified.flush());
        }
        assertEquals(1, set.lastSeq(), "only the checked client's write reached the journal");
    }

    @Test
    void tlsWithoutACheckedCertificateIsReadOnlyToo() throws IOException {
        int port = serve(NbdTls.Mode.REQUIRE, KeyFormat.PKCS8_RSA, false, NbdServer.TcpWrites.VERIFIED_CLIENTS);
        try (NbdTestClient c = NbdTestClient.connect(port).startTls(client(true))) {
            NbdTestClient.ExportInfo info = c.info(OPT_INFO, "s/m0", INFO_DESCRIPTION);
            assertTrue((info.flags() & FLAG_READ_ONLY) != 0, "encrypted is not authenticated: read-only");
            assertTrue(info.replies().stream().anyMatch(r -> r.text().contains("--tls-verify-peer")),
                    "the description says how to get write access");
        }
    }

    private SSLContext client(boolean withCertificate) {
        return TestCertificates.clientContext(certs.client(), withCertificate);
    }

    @ParameterizedTest
    @EnumSource(KeyFormat.class)
    void startTlsThenGoWritesAndReadsThroughTls(KeyFormat key) throws IOException {
        int port = serve(NbdTls.Mode.REQUIRE, key, false);
        byte[] data = pattern(64 << 10, 7);
        try (NbdTestClient c = NbdTestClient.openTls(port, "s/m0", client(false))) {
            assertEquals(M0_BYTES, c.sizeBytes());
            assertEquals(0, c.write(4096, data));
            assertEquals(0, c.flush());
            assertArrayEquals(data, c.read(4096, data.length));
        }
        assertEquals(1, set.lastSeq(), "the write went through TLS into the journal");
    }

    @Test
    void requireAnswersEveryOptionBeforeTlsWithTlsReqdAndExportNameEndsTheSession() throws IOException {
        int port = serve(NbdTls.Mode.REQUIRE, KeyFormat.PKCS8_RSA, false);
        try (NbdTestClient c = NbdTestClient.connect(port)) {
            for (int option : new int[] {OPT_LIST, OPT_STRUCTURED_REPLY, OPT_INFO, OPT_GO, OPT_LIST_META_CONTEXT, 99}) {
                byte[] data = option == OPT_INFO || option == OPT_GO ? infoData("s/m0")
                        : option == OPT_LIST_META_CONTEXT ? metaContextData("s/m0", "base:allocation") : new byte[0];
                List<OptionReply> replies = c.option(option, data);
                assertEquals(1, replies.size(), "one reply to option " + option);
                assertEquals(REP_ERR_TLS_REQD, replies.get(0).type(), () -> "option " + option + ": " + replies.get(0).text());
            }
            c.out.write(exportName("s/m0"));
            c.out.flush();
            assertEquals(0, c.readToEnd().length, "NBD_OPT_EXPORT_NAME before TLS: the session ends with no export data");
        }
        assertEquals(0, set.lastSeq());
    }

    @Test
    void abortBeforeTlsIsAcknowledgedUnderRequire() throws IOException {
        int port = serve(NbdTls.Mode.REQUIRE, KeyFormat.PKCS8_RSA, false);
        try (NbdTestClient c = NbdTestClient.connect(port)) {
            assertEquals(REP_ACK, c.option(OPT_ABORT, new byte[0]).get(0).type());
        }
    }

    @Test
    void startTlsTwiceOrWithDataIsInvalid() throws IOException {
        int port = serve(NbdTls.Mode.REQUIRE, KeyFormat.PKCS8_RSA, false);
        try (NbdTestClient plain = NbdTestClient.connect(port)) {
            assertEquals(REP_ERR_INVALID, plain.option(OPT_STARTTLS, new byte[] {1, 2, 3}).get(0).type(), "STARTTLS with data");
            try (NbdTestClient c = plain.startTls(client(false))) {
                OptionReply again = c.option(OPT_STARTTLS, new byte[0]).get(0);
                assertEquals(REP_ERR_INVALID, again.type(), again.text());
                c.go("s/m0");
                assertEquals(M0_BYTES, c.sizeBytes());
            }
        }
    }

    @Test
    void onServesPlainClientsAndUpgradesThoseThatAsk() throws IOException {
        int port = serve(NbdTls.Mode.ON, KeyFormat.PKCS8_RSA, false);
        byte[] data = pattern(4096, 3);
        try (NbdTestClient plain = NbdTestClient.open(port, "s/m0")) {
            assertEquals(0, plain.write(0, data));
        }
        try (NbdTestClient secured = NbdTestClient.openTls(port, "s/m0", client(false))) {
            assertArrayEquals(data, secured.read(0, data.length));
        }
    }

    @Test
    void structuredRepliesChosenBeforeTlsAreForgottenAfterIt() throws IOException {
        int port = serve(NbdTls.Mode.ON, KeyFormat.PKCS8_RSA, false);
        try (NbdTestClient plain = NbdTestClient.connect(port)) {
            plain.structuredReplies();
            try (NbdTestClient c = plain.startTls(client(false))) {
                OptionReply set = c.option(OPT_SET_META_CONTEXT, metaContextData("s/m0", "base:allocation")).get(0);
                assertEquals(REP_ERR_INVALID, set.type(), "meta contexts need structured replies negotiated again under TLS: " + set.text());
            }
        }
    }

    @Test
    void offAnswersStartTlsWithUnsupAndGoesOnInPlain() throws IOException {
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), new CapturedSetExports(Map.of("s", set), (s, b) -> OptionalLong.empty()),
                NbdServer.TcpWrites.VERIFIED_CLIENTS);
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            assertEquals(REP_ERR_UNSUP, c.option(OPT_STARTTLS, new byte[0]).get(0).type());
            c.go("s/m0");
            assertEquals(M0_BYTES, c.sizeBytes());
        }
    }

    @Test
    void verifyPeerAcceptsTheCaClientAndRefusesAnotherCaOrNoCertificate() throws IOException {
        int port = serve(NbdTls.Mode.REQUIRE, KeyFormat.PKCS8_RSA, true);
        try (NbdTestClient c = NbdTestClient.openTls(port, "s/m0", client(true))) {
            assertEquals(M0_BYTES, c.sizeBytes());
        }
        SSLContext intruder = TestCertificates.clientContext(certs.otherClient(), true);
        for (SSLContext refused : List.of(intruder, client(false))) {
            try (NbdTestClient plain = NbdTestClient.connect(port)) {
                assertThrows(IOException.class, () -> {
                    NbdTestClient c = plain.startTls(refused);
                    c.go("s/m0"); // TLS 1.3: the server's refusal of the certificate arrives on the first read
                }, "a client that the CA did not sign gets no export");
            }
        }
        assertEquals(0, awaitNoConnections(), "refused connections are closed");
    }

    private int awaitNoConnections() {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (server.openConnections() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return server.openConnections();
    }

    @Test
    void missingOrIncompleteCertificatesAreOneLineErrors() throws IOException {
        RewindException missing = assertThrows(RewindException.class, () -> NbdTls.load(NbdTls.Mode.REQUIRE, tmp.resolve("nope"), false));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        certs = TestCertificates.make(tmp.resolve("certs"), KeyFormat.PKCS8_RSA);
        Files.delete(certs.server().resolve("server-key.pem"));
        RewindException noKey = assertThrows(RewindException.class, () -> NbdTls.load(NbdTls.Mode.ON, certs.server(), false));
        assertTrue(noKey.getMessage().contains("server-key.pem") && !noKey.getMessage().contains("\n"), noKey.getMessage());
        Path key = certs.server().resolve("server-key.pem");
        Files.writeString(key, "not a key\n");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        RewindException garbage = assertThrows(RewindException.class, () -> NbdTls.load(NbdTls.Mode.ON, certs.server(), false));
        assertTrue(garbage.getMessage().contains("no PEM private key"), garbage.getMessage());
    }

    @Test
    void aServerKeyOthersCanReadIsRefusedAndAGroupReadableOneServes() throws IOException {
        certs = TestCertificates.make(tmp.resolve("certs"), KeyFormat.PKCS8_RSA);
        Path key = certs.server().resolve("server-key.pem");
        for (String mode : new String[] {"rw-r--r--", "rw-rw----", "rw----r--"}) {
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString(mode));
            RewindException e = assertThrows(RewindException.class, () -> NbdTls.load(NbdTls.Mode.REQUIRE, certs.server(), false));
            assertTrue(e.getMessage().startsWith(key + " can be read or written by other users (mode ")
                    && e.getMessage().endsWith("; make the private key the owner's: chmod 0600 " + key), e.getMessage());
            assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(key)), "the refusal changed nothing");
        }
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));
        assertEquals(NbdTls.Mode.REQUIRE, NbdTls.load(NbdTls.Mode.REQUIRE, certs.server(), false).mode());
    }
}
