package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.nbd.NbdWire;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.testfixtures.tls.TestCertificates;
import dev.rewind.testfixtures.tls.TestCertificates.KeyFormat;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * A flood of connections cannot lock healthy clients out, over real sockets: idle connections
 * that never negotiate (plain, and stalled inside NBD_OPT_STARTTLS) give way to new clients,
 * the Unix socket keeps its own budget, one client address holds only its share, a client
 * that sends nothing is closed after the silent timeout, and refusals are logged as counts,
 * not one line each. "At once" is {@link #AT_ONCE}, far below every timeout of the server in
 * these tests: a healthy client is served because it took an idle connection's place, not
 * because that one timed out.
 */
class NbdConnectionFloodIT {
    private static final long M0_BYTES = 4 << 20;
    private static final int FLOOD = 200;
    private static final Duration AT_ONCE = Duration.ofSeconds(5);
    private static final Duration NEVER_IN_THIS_TEST = Duration.ofMinutes(5);

    @TempDir
    Path tmp;

    private TestSet testSet;
    private CapturedSet set;
    private NbdServer server;
    private TestCertificates certs;
    private final List<Socket> sockets = new ArrayList<>();

    @BeforeEach
    void openSet() throws IOException {
        testSet = TestSet.create(tmp.resolve("set"), "s", M0_BYTES);
        set = testSet.open();
    }

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
        set.close();
        testSet.close();
    }

    /** Listens on the Unix socket tmp/nbd.sock and on 127.0.0.1 with TLS offered (plain and TLS clients on one port). */
    private void serve(NbdServer.Settings settings) throws IOException {
        certs = TestCertificates.make(tmp.resolve("certs"), KeyFormat.PKCS8_RSA);
        server = NbdServer.start(List.of(UnixDomainSocketAddress.of(tmp.resolve("nbd.sock")), new InetSocketAddress("127.0.0.1", 0)),
                new CapturedSetExports(Map.of("s", set), (s, b) -> OptionalLong.empty()), settings,
                NbdTls.load(NbdTls.Mode.ON, certs.server(), false), NbdServer.TcpWrites.ANY_CLIENT);
    }

    private static NbdServer.Settings patient() {
        return NbdServer.Settings.DEFAULT.withHandshakeTimeout(NEVER_IN_THIS_TEST).withSilentTimeout(NEVER_IN_THIS_TEST);
    }

    @ParameterizedTest(name = "{0} connections per client address")
    @ValueSource(ints = {NbdServer.Settings.DEFAULT_MAX_CONNECTIONS_PER_PEER, NbdServer.Settings.MAX_CONNECTIONS_LIMIT})
    void twoHundredIdleConnectionsOnTcpAndTlsLeaveEveryListenerServingAtOnce(int perPeer) throws Exception {
        serve(patient().withMaxConnectionsPerPeer(perPeer));
        for (int i = 0; i < FLOOD; i++) {
            Socket s = idle(i);
            sockets.add(s);
        }
        byte[] data = NbdWire.pattern(64 << 10, 3);
        long started = System.nanoTime();
        try (NbdTestClient plain = NbdTestClient.open(server.port(), "s/m0")) {
            assertEquals(0, plain.write(0, data));
            assertArrayEquals(data, plain.read(0, data.length));
        }
        assertAtOnce(started, "a plain TCP client beside " + FLOOD + " idle connections");
        started = System.nanoTime();
        try (NbdTestClient tls = NbdTestClient.openTls(server.port(), "s/m0", TestCertificates.clientContext(certs.client(), false))) {
            assertArrayEquals(data, tls.read(0, data.length));
        }
        assertAtOnce(started, "a TLS client beside " + FLOOD + " idle connections");
        started = System.nanoTime();
        assertNbdinfoServesOverTheUnixSocket();
        assertAtOnce(started, "nbdinfo on the Unix socket");
    }

    @Test
    void theUnixSocketKeepsItsOwnBudgetWhileTcpIsFullOfClientsInTransmission() throws Exception {
        int limit = 4;
        serve(patient().withMaxConnections(limit));
        List<NbdTestClient> serving = new ArrayList<>();
        try {
            for (int i = 0; i < limit; i++) {
                serving.add(NbdTestClient.open(server.port(), "s/m0"));
            }
            assertClosedBeforeTheGreeting(server.port(), "TCP connection " + (limit + 1) + " while " + limit + " are in transmission");
            assertNbdinfoServesOverTheUnixSocket();
        } finally {
            serving.forEach(NbdTestClient::close);
        }
    }

    @Test
    void oneClientAddressHoldsOnlyItsShareAndAnotherAddressIsStillServed() throws Exception {
        InetAddress other = InetAddress.getByName("127.0.0.2");
        serve(patient().withMaxConnections(8).withMaxConnectionsPerPeer(2));
        List<NbdTestClient> serving = new ArrayList<>();
        try {
            serving.add(NbdTestClient.openFrom(other, server.port(), "s/m0"));
            serving.add(NbdTestClient.openFrom(other, server.port(), "s/m0"));
            try (Socket third = new Socket()) {
                third.bind(new InetSocketAddress(other, 0));
                third.connect(new InetSocketAddress("127.0.0.1", server.port()));
                third.setSoTimeout((int) AT_ONCE.toMillis());
                assertEquals(0, readToEnd(third.getInputStream(), "a third connection from " + other), "closed before the greeting");
            }
            long started = System.nanoTime();
            try (NbdTestClient mine = NbdTestClient.open(server.port(), "s/m0")) {
                assertEquals(M0_BYTES, mine.sizeBytes());
            }
            assertAtOnce(started, "a client from 127.0.0.1 while 127.0.0.2 holds its share");
        } finally {
            serving.forEach(NbdTestClient::close);
        }
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheSilentTimeoutAndOneThatNegotiatesStays() throws Exception {
        Duration silent = Duration.ofMillis(500);
        serve(NbdServer.Settings.DEFAULT.withHandshakeTimeout(NEVER_IN_THIS_TEST).withSilentTimeout(silent));
        try (NbdTestClient talking = NbdTestClient.connect(server.port());
             Socket mute = new Socket("127.0.0.1", server.port())) {
            long started = System.nanoTime();
            mute.setSoTimeout((int) AT_ONCE.toMillis());
            InputStream in = mute.getInputStream();
            assertEquals(18, in.readNBytes(18).length, "the greeting");
            assertEquals(0, readToEnd(in, "a connection that sends nothing"), "closed after the greeting");
            long tookMillis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(tookMillis >= silent.toMillis() - 50, "not before the silent timeout: " + tookMillis + " ms");
            assertEquals(REP_ACK, talking.option(OPT_LIST, new byte[0]).get(1).type(),
                    "a client that sent its flags is still negotiating");
        }
    }

    @Test
    void refusalsAreLoggedAsCountsNotOneLineEach() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(ConnectionBudget.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        log.addAppender(logged);
        try {
            int limit = 2;
            serve(patient().withMaxConnections(limit));
            List<NbdTestClient> serving = new ArrayList<>();
            try {
                for (int i = 0; i < limit; i++) {
                    serving.add(NbdTestClient.open(server.port(), "s/m0"));
                }
                for (int i = 0; i < FLOOD; i++) {
                    assertClosedBeforeTheGreeting(server.port(), "connection " + i + " over the limit");
                }
            } finally {
                serving.forEach(NbdTestClient::close);
            }
            server.close(); // logs what the last interval counted
            List<String> lines = logged.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
            assertTrue(!lines.isEmpty() && lines.size() <= 1 + FLOOD / 100, lines.size() + " lines, not a few: "
                    + lines.subList(0, Math.min(3, lines.size())));
            int counted = 0;
            Pattern refused = Pattern.compile("refused (\\d+) new connection");
            for (String line : lines) {
                Matcher m = refused.matcher(line);
                assertTrue(m.find(), line);
                counted += Integer.parseInt(m.group(1));
            }
            assertEquals(FLOOD, counted, "the lines count every refusal: " + lines);
        } finally {
            log.detachAppender(logged);
        }
    }

    /** Connection {@code i} of a flood: says nothing, sends its flags only, haggles forever, or stalls inside STARTTLS. */
    private Socket idle(int i) throws IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        OutputStream out = s.getOutputStream();
        byte[] flags = NbdWire.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
        switch (i % 4) {
            case 0 -> { } // says nothing
            case 1 -> out.write(flags);
            case 2 -> out.write(NbdWire.concat(flags, NbdWire.option(OPT_LIST, new byte[0])));
            default -> out.write(NbdWire.concat(flags, NbdWire.option(OPT_STARTTLS, new byte[0]))); // then no TLS handshake
        }
        out.flush();
        return s;
    }

    private void assertNbdinfoServesOverTheUnixSocket() {
        Path nbdinfo = Tools.require("nbdinfo", "libnbd-bin");
        Tools.Result r = Tools.run(AT_ONCE.multipliedBy(2), List.of(nbdinfo.toString(), "--size",
                "nbd+unix:///s/m0?socket=" + tmp.resolve("nbd.sock")));
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(String.valueOf(M0_BYTES), r.output().strip());
    }

    private void assertClosedBeforeTheGreeting(int port, String what) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout((int) AT_ONCE.toMillis());
            assertEquals(0, readToEnd(s.getInputStream(), what), what + " is closed before any greeting");
        }
    }

    /** Bytes read until the server closes (a reset counts as closed); fails if it is still open after the socket's timeout. */
    private static int readToEnd(InputStream in, String what) throws IOException {
        int n = 0;
        try {
            for (int b = in.read(); b >= 0 && n < 1 << 20; b = in.read()) {
                n++;
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError(what + " was not closed by the server", e);
        } catch (SocketException e) {
            // reset: closed
        }
        return n;
    }

    private static void assertAtOnce(long startedNanos, String what) {
        long tookMillis = (System.nanoTime() - startedNanos) / 1_000_000;
        assertTrue(tookMillis < AT_ONCE.toMillis(), what + " took " + tookMillis + " ms");
    }
}
