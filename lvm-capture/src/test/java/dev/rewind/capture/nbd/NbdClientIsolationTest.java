package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.nbd.NbdWire;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No single client can stall the others, over real sockets against a real captured set: a
 * client that pipelines reads and never reads the replies, idle connections that never finish
 * the handshake, and connections over the limit. The working client's operations are checked
 * against a model image and must each complete within {@link #LIVENESS} (a liveness bound, not
 * a performance figure).
 *
 * <p>The working client's workload is seeded: replay with {@code -Drewind.seed=N}.
 */
class NbdClientIsolationTest {
    private static final int BLOCK = 4096;
    private static final int STALLED_READS = 20_000;
    private static final long MEMBER_BYTES = (long) STALLED_READS * BLOCK;
    private static final Duration LIVENESS = Duration.ofSeconds(10);
    private static final long SEED = Seeds.of(20_111L).findFirst().getAsLong();

    @TempDir
    Path tmp;

    private TestSet testSet;
    private CapturedSet set;
    private NbdServer server;
    private final List<Socket> sockets = new ArrayList<>();

    private void start(long memberBytes, NbdServer.Settings settings) throws IOException {
        testSet = TestSet.create(tmp, "s", memberBytes);
        set = testSet.open();
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), new CapturedSetExports(Map.of("s", set),
                (s, b) -> OptionalLong.empty()), settings, NbdServer.TcpWrites.ANY_CLIENT);
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
        if (set != null) {
            set.close();
        }
        if (testSet != null) {
            testSet.close();
        }
    }

    /**
     * The reproduction: GO on s/m0, 20,000 pipelined 4 KiB reads at distinct offsets,
     * no reply ever read. The reply timeout (12 s) is longer than the liveness bound (10 s), so
     * the other client's operations complete only if no shared thread waits on the stalled one.
     */
    @Test
    void aClientThatNeverReadsItsRepliesStallsNobodyElseAndIsDroppedAfterTheReplyTimeout() throws Exception {
        int maxInFlight = 64;
        start(MEMBER_BYTES, new NbdServer.Settings(8, maxInFlight, 16L << 20, 256L << 20, 0, 128, Duration.ofSeconds(10),
                Duration.ofSeconds(20), Duration.ofSeconds(12), Duration.ofSeconds(5)));
        NbdTestClient stalled = NbdTestClient.connect(server.port());
        sockets.add(stalled.socket);
        stalled.go("s/m0");
        Thread pipeliner = new Thread(() -> pipelineReads(stalled), "stalled-client");
        pipeliner.setDaemon(true);
        pipeliner.start();

        long held = awaitValue(() -> server.buffers().inUseBytes(), (long) maxInFlight * BLOCK,
                "the stalled connection holds its cap of READ buffers");
        assertEquals((long) maxInFlight * BLOCK, held, "the stalled connection holds no more than its cap of requests in flight");

        try (NbdTestClient working = NbdTestClient.connect(server.port())) {
            working.socket.setSoTimeout((int) LIVENESS.toMillis());
            working.go("s/m0");
            runWorkload(working, 200, "while another client does not read its replies");
            assertTrue(server.buffers().inUseBytes() <= (long) maxInFlight * BLOCK, "the stalled connection never holds more than its cap");

            awaitValue(server::openConnections, 1L, "the stalled client is dropped after the reply timeout");
            awaitValue(() -> server.buffers().inUseBytes(), 0L, "the stalled client's buffers went back to the pool");
            assertTrue(readsToEndOfStream(stalled.socket) < (long) STALLED_READS * (16 + BLOCK), "the server closed the stalled socket");
            runWorkload(working, 20, "after the stalled client was dropped");
        }
        pipeliner.join(LIVENESS.toMillis());
    }

    /**
     * Writes, trims and write-zeroes without FUA run on the connection's own reader thread,
     * which also writes their replies: a client that pipelines trims and never reads a reply
     * blocks only that thread (so the server stops reading it), and is dropped after the reply
     * timeout like any other.
     */
    @Test
    void aClientThatPipelinesWritesWithoutReadingRepliesIsDroppedAndStallsNobody() throws Exception {
        start(MEMBER_BYTES, new NbdServer.Settings(8, 64, 16L << 20, 256L << 20, 0, 128, Duration.ofSeconds(10),
                Duration.ofSeconds(20), Duration.ofSeconds(12), Duration.ofSeconds(5)));
        NbdTestClient stalled = NbdTestClient.connect(server.port());
        sockets.add(stalled.socket);
        stalled.go("s/m0");
        long[] sent = {0};
        Thread pipeliner = new Thread(() -> {
            try {
                OutputStream out = new BufferedOutputStream(stalled.socket.getOutputStream(), 1 << 16);
                for (long i = 0; i < 2_000_000; i++) {
                    long offset = (1L << 20) + (i % (STALLED_READS - 512)) * BLOCK;
                    out.write(NbdWire.request(0, CMD_TRIM, i, offset, BLOCK));
                    sent[0] = i + 1;
                }
                out.flush();
            } catch (IOException e) {
                // the server dropped it: expected once the reply timeout has passed
            }
        }, "stalled-trimmer");
        pipeliner.setDaemon(true);
        pipeliner.start();

        try (NbdTestClient working = NbdTestClient.connect(server.port())) {
            working.socket.setSoTimeout((int) LIVENESS.toMillis());
            working.go("s/m0");
            runWorkload(working, 200, "while another client pipelines trims and reads no reply");
            awaitValue(server::openConnections, 1L, "the client that reads no reply is dropped after the reply timeout");
            runWorkload(working, 20, "after the stalled client was dropped");
        }
        pipeliner.join(LIVENESS.toMillis());
        assertTrue(sent[0] < 2_000_000, "the server stopped reading the client that did not read its replies (" + sent[0] + " sent)");
    }

    /**
     * Replies of writes run by the reader are held for a batch; with a request cap smaller than
     * a batch, admission must write them first instead of waiting for them forever.
     */
    @Test
    void pipelinedWritesUnderASmallRequestCapAreAllAnswered() throws Exception {
        start(4L << 20, new NbdServer.Settings(8, 4, 16L << 20, 256L << 20, 0, 128, Duration.ofSeconds(10),
                Duration.ofSeconds(20), Duration.ofSeconds(30), Duration.ofSeconds(5)));
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.socket.setSoTimeout((int) LIVENESS.toMillis());
            c.go("s/m0");
            int writes = 1000;
            byte[] block = NbdWire.pattern(BLOCK, 7);
            OutputStream out = new BufferedOutputStream(c.socket.getOutputStream(), 1 << 16);
            for (int i = 0; i < writes; i++) {
                out.write(NbdWire.write(0, i, (long) (i % 1024) * BLOCK, block));
            }
            out.flush();
            for (int i = 0; i < writes; i++) {
                assertEquals(0, c.readSimpleReply().error(), "write " + i);
            }
            assertArrayEquals(block, c.read(0, BLOCK));
        }
    }

    /** A client whose replies are large: what it may hold is bounded in bytes too, not only in requests. */
    @Test
    void queuedReplyBytesOfOneConnectionAreCapped() throws Exception {
        long capBytes = 4L << 20;
        start(64L << 20, new NbdServer.Settings(8, 128, capBytes, 256L << 20, 0, 128, Duration.ofSeconds(10),
                Duration.ofSeconds(20), Duration.ofSeconds(30), Duration.ofSeconds(5)));
        NbdTestClient stalled = NbdTestClient.connect(server.port());
        sockets.add(stalled.socket);
        stalled.go("s/m0");
        Thread pipeliner = new Thread(() -> {
            try {
                for (int i = 0; i < 64; i++) {
                    stalled.out.write(NbdWire.request(0, CMD_READ, i, (long) i << 20, 1 << 20));
                }
                stalled.out.flush();
            } catch (IOException e) {
                // the server closed it
            }
        }, "stalled-client");
        pipeliner.setDaemon(true);
        pipeliner.start();
        long deadline = System.nanoTime() + LIVENESS.toNanos();
        long held = 0;
        while (held < capBytes && System.nanoTime() < deadline) {
            held = server.buffers().inUseBytes();
            assertTrue(held <= capBytes, "a connection that does not read holds " + held + " bytes, over its cap of " + capBytes);
            Thread.sleep(5);
        }
        assertEquals(capBytes, held, "the connection filled exactly its byte cap");
        Thread.sleep(200);
        assertEquals(capBytes, server.buffers().inUseBytes(), "and stays there while it does not read");
    }

    /** 200 connections that never finish negotiating, beside a client in transmission. */
    @Test
    void idleHandshakesAreClosedAfterTheHandshakeTimeoutWhileAnotherClientWorks() throws Exception {
        start(8L << 20, NbdServer.Settings.DEFAULT.withHandshakeTimeout(Duration.ofSeconds(2)).withMaxConnections(256));
        try (NbdTestClient working = NbdTestClient.connect(server.port())) {
            working.socket.setSoTimeout((int) LIVENESS.toMillis());
            working.go("s/m0");
            List<Socket> idle = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                Socket s = new Socket("127.0.0.1", server.port());
                sockets.add(s);
                idle.add(s);
                OutputStream out = s.getOutputStream();
                switch (i % 4) {
                    case 0 -> { } // says nothing
                    case 1 -> out.write(NbdWire.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES));
                    case 2 -> out.write(NbdWire.concat(NbdWire.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES),
                            NbdWire.optionHeader(OPT_GO, 40))); // an option whose data never comes
                    default -> out.write(NbdWire.concat(NbdWire.clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES),
                            NbdWire.option(OPT_LIST, new byte[0]))); // haggles, never chooses
                }
                out.flush();
            }
            runWorkload(working, 200, "beside 200 idle handshakes");
            for (int i = 0; i < idle.size(); i++) {
                Socket s = idle.get(i);
                s.setSoTimeout(30_000);
                try {
                    readsToEndOfStream(s);
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("idle connection " + i + " was not closed by the server", e);
                }
            }
            awaitValue(server::openConnections, 1L, "only the working client is left");
            runWorkload(working, 20, "after the idle connections were closed (longer ago than the handshake timeout)");
        }
    }

    @Test
    void aConnectionOverTheLimitIsClosedAtOnceAndOneFreedSlotAdmitsAnother() throws Exception {
        int limit = 4;
        start(8L << 20, NbdServer.Settings.DEFAULT.withMaxConnections(limit));
        List<NbdTestClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < limit; i++) {
                NbdTestClient c = NbdTestClient.connect(server.port());
                c.go("s/m0");
                open.add(c);
            }
            try (Socket over = new Socket("127.0.0.1", server.port())) {
                over.setSoTimeout((int) LIVENESS.toMillis());
                assertEquals(0, readsToEndOfStream(over), "connection " + (limit + 1) + " is closed before any greeting");
            } catch (SocketTimeoutException e) {
                throw new AssertionError("connection " + (limit + 1) + " was served although " + limit + " were open", e);
            }
            for (NbdTestClient c : open) {
                c.socket.setSoTimeout((int) LIVENESS.toMillis());
                runWorkload(c, 5, "at the connection limit");
            }
            open.remove(0).close();
            awaitValue(server::openConnections, (long) limit - 1, "the closed connection frees its slot");
            try (NbdTestClient again = NbdTestClient.connect(server.port())) {
                again.socket.setSoTimeout((int) LIVENESS.toMillis());
                again.go("s/m0");
                runWorkload(again, 5, "in the freed slot");
            }
        } finally {
            for (NbdTestClient c : open) {
                c.close();
            }
        }
    }

    @Test
    void settingsOutsideTheirRangeAreRefusedWithTheRange() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> NbdServer.Settings.DEFAULT.withMaxConnections(0));
        assertTrue(e.getMessage().contains("connections 0") && e.getMessage().contains("1 to"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> NbdServer.Settings.DEFAULT.withHandshakeTimeout(Duration.ZERO));
        assertTrue(e.getMessage().contains("handshake timeout"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> NbdServer.Settings.DEFAULT.withReplyTimeout(Duration.ofHours(2)));
        assertTrue(e.getMessage().contains("reply timeout"), e.getMessage());
    }

    // ---- helpers ----

    private static void pipelineReads(NbdTestClient c) {
        try {
            OutputStream out = new BufferedOutputStream(c.socket.getOutputStream(), 1 << 16);
            for (int i = 0; i < STALLED_READS; i++) {
                out.write(NbdWire.request(0, CMD_READ, i, (long) i * BLOCK, BLOCK));
            }
            out.flush();
        } catch (IOException e) {
            // the server dropped it: expected once the reply timeout has passed
        }
    }

    /**
     * Seeded writes, reads (checked against a model of what this client wrote), flushes and
     * FUA writes, in the first 1 MiB of s/m0 (nobody else writes there); each must complete
     * within {@link #LIVENESS}.
     */
    private void runWorkload(NbdTestClient c, int operations, String when) throws IOException {
        Random r = new Random(SEED);
        byte[] model;
        try {
            model = c.read(0, 1 << 20);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the first read did not complete within " + LIVENESS + " " + when, e);
        }
        for (int i = 0; i < operations; i++) {
            int offset = r.nextInt(model.length / BLOCK) * BLOCK;
            int kind = r.nextInt(10);
            try {
                if (kind < 4) {
                    byte[] data = new byte[BLOCK * (1 + r.nextInt(4))];
                    r.nextBytes(data);
                    int length = Math.min(data.length, model.length - offset);
                    byte[] payload = java.util.Arrays.copyOf(data, length);
                    assertEquals(0, c.write(kind == 0 ? CMD_FLAG_FUA : 0, offset, payload), "write");
                    System.arraycopy(payload, 0, model, offset, length);
                } else if (kind < 9) {
                    int length = Math.min(BLOCK * (1 + r.nextInt(4)), model.length - offset);
                    assertArrayEquals(java.util.Arrays.copyOfRange(model, offset, offset + length), c.read(offset, length),
                            Seeds.describe(SEED) + ": read " + i + " at " + offset + " " + when);
                } else {
                    assertEquals(0, c.simple(0, CMD_FLUSH, 0, 0), "flush");
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("operation " + i + " (" + Seeds.describe(SEED) + ") did not complete within " + LIVENESS + " " + when, e);
            }
        }
    }

    /** Polls {@code value} until it equals {@code expected}, for up to 30 s; returns the last value seen. */
    private static long awaitValue(LongSupplier value, long expected, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long v = value.getAsLong();
        while (v != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            v = value.getAsLong();
        }
        assertEquals(expected, v, what);
        return v;
    }

    /** Reads and discards until the peer closes; returns the bytes read. */
    private static long readsToEndOfStream(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        byte[] sink = new byte[1 << 16];
        long total = 0;
        try {
            for (int n; (n = in.read(sink)) >= 0; ) {
                total += n;
            }
        } catch (SocketException e) {
            // reset by the server: closed as well
        }
        return total;
    }
}
