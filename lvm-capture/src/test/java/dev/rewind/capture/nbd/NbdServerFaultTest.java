package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;
import static dev.rewind.testfixtures.nbd.NbdWire.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.nbd.NbdTestClient.Chunk;
import dev.rewind.testfixtures.nbd.NbdTestClient.OptionReply;
import dev.rewind.testfixtures.nbd.NbdTestClient.SimpleReply;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server over an in-memory export that fails or stalls on cue: export errors become
 * NBD errors without harming the connection or others, and closing waits for requests in
 * flight, answers them, flushes, and only then closes.
 */
class NbdServerFaultTest {
    private static final long IO_FAILURE_AT = 8192;
    private static final long ARGUMENT_FAILURE_AT = 12288;
    private static final long BUG_AT = 16384;

    private final MemoryExport export = new MemoryExport(1 << 20);
    private final CountDownLatch openGate = new CountDownLatch(1);
    private volatile boolean gateOpens;
    private NbdServer server;

    @AfterEach
    void stop() {
        export.writeGate.countDown();
        openGate.countDown();
        if (server != null) {
            server.close();
        }
    }

    private void start(Duration drainTimeout) throws IOException {
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), new NbdExports() {
            @Override
            public Optional<NbdExport> open(String exportName) {
                if (gateOpens) {
                    await(openGate);
                }
                return exportName.equals("mem/disk") ? Optional.of(export) : Optional.empty();
            }

            @Override
            public List<String> names() {
                return List.of("mem/disk");
            }
        }, new NbdServer.Settings(4, 16, 64L << 20, 0, drainTimeout), NbdServer.TcpWrites.ANY_CLIENT);
    }

    @Test
    void exportFailuresBecomeEioOrEinvalAndTheConnectionsGoOn() throws Exception {
        start(Duration.ofSeconds(10));
        try (NbdTestClient simple = NbdTestClient.connect(server.port()); NbdTestClient structured = NbdTestClient.connect(server.port())) {
            simple.go("mem/disk");
            structured.structuredReplies();
            structured.go("mem/disk");

            assertEquals(EIO, simple.simple(0, CMD_READ, IO_FAILURE_AT, 512));
            assertEquals(EINVAL, simple.simple(0, CMD_READ, ARGUMENT_FAILURE_AT, 512));
            assertEquals(EIO, simple.simple(0, CMD_READ, BUG_AT, 512));
            assertArrayEquals(new byte[512], simple.read(0, 512), "the connection goes on");

            structured.request(0, CMD_READ, 7, IO_FAILURE_AT, 512);
            Chunk chunk = structured.readChunk();
            assertEquals(EIO, chunk.error());
            assertTrue(chunk.isDone());
            assertEquals("disk on fire at " + IO_FAILURE_AT, chunk.errorMessage());
            structured.request(0, CMD_READ, 8, 0, 512);
            assertEquals(REPLY_TYPE_OFFSET_DATA, structured.readChunk().type());
        }
        awaitNoBufferOut(); // replies go out before their buffers go back: wait for the workers to finish
    }

    @Test
    void closeLetsRequestsInFlightFinishAnswersThemAndFlushes() throws Exception {
        start(Duration.ofSeconds(10));
        export.stallWrites();
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("mem/disk");
            c.writeRequest(0, 5, 0, pattern(4096, 1));
            assertTrue(export.writeEntered.await(10, TimeUnit.SECONDS));
            Thread closer = new Thread(server::close, "closer");
            closer.start();
            closer.join(300);
            assertTrue(closer.isAlive(), "close waits for the write in flight");
            assertEquals(0, export.flushes.get());
            export.writeGate.countDown();
            closer.join(10_000);
            assertFalse(closer.isAlive());
            assertEquals(new SimpleReply(0, 5), c.readSimpleReply(), "the write was answered");
            assertTrue(c.isClosedByServer());
            assertArrayEquals(pattern(4096, 1), java.util.Arrays.copyOf(export.data, 4096));
            assertEquals(1, export.flushes.get(), "flushed at close");
        }
        assertEquals(0, server.buffers().inUseBytes());
    }

    @Test
    void disconnectWaitsForRequestsInFlightOnThatSet() throws Exception {
        start(Duration.ofSeconds(10));
        export.stallWrites();
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("mem/disk");
            assertEquals(1, server.connectionCount("mem"));
            c.writeRequest(CMD_FLAG_FUA, 9, 4096, pattern(100, 2));
            assertTrue(export.writeEntered.await(10, TimeUnit.SECONDS));
            Thread disconnecter = new Thread(() -> server.disconnect("mem"), "disconnecter");
            disconnecter.start();
            disconnecter.join(300);
            assertTrue(disconnecter.isAlive());
            export.writeGate.countDown();
            disconnecter.join(10_000);
            assertFalse(disconnecter.isAlive());
            assertEquals(new SimpleReply(0, 9), c.readSimpleReply());
            assertTrue(c.isClosedByServer());
            assertEquals(0, server.connectionCount("mem"));
        }
    }

    @Test
    void closeDropsAConnectionWhoseRequestOutlastsTheDrainTimeout() throws Exception {
        start(Duration.ofMillis(200));
        export.stallWrites();
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("mem/disk");
            c.writeRequest(0, 1, 0, pattern(512, 1));
            assertTrue(export.writeEntered.await(10, TimeUnit.SECONDS));
            long started = System.nanoTime();
            server.close();
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "close gave up waiting");
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void optionsArrivingWhileTheServerShutsDownAreRefusedWithShutdown() throws Exception {
        start(Duration.ofSeconds(10));
        gateOpens = true;
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.out.write(concat(option(OPT_INFO, infoData("mem/disk")), option(OPT_LIST, new byte[0])));
            c.out.flush();
            Thread.sleep(200); // the reader now waits in open() with the LIST already read
            Thread closer = new Thread(server::close, "closer");
            closer.start();
            Thread.sleep(200);
            openGate.countDown();
            OptionReply reply;
            do {
                reply = c.readOptionReply();
            } while (reply.option() == OPT_INFO && reply.type() != REP_ACK);
            OptionReply list = c.readOptionReply();
            assertEquals(OPT_LIST, list.option());
            assertEquals(REP_ERR_SHUTDOWN, list.type());
            assertTrue(c.isClosedByServer());
            closer.join(10_000);
        }
    }

    @Test
    void aClientVanishingMidWriteLeavesNoBufferBehind() throws Exception {
        start(Duration.ofSeconds(10));
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("mem/disk");
            c.out.write(request(0, CMD_WRITE, 1, 0, 1 << 20));
            c.out.write(new byte[1000]);
            c.out.flush();
            Thread.sleep(100);
        }
        awaitNoBufferOut();
    }

    private void awaitNoBufferOut() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.buffers().inUseBytes() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, server.buffers().inUseBytes(), "every payload buffer went back to the pool");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A 1 MiB export in memory that fails reads at fixed offsets and can stall writes. */
    static final class MemoryExport implements NbdExport {
        final byte[] data;
        final CountDownLatch writeEntered = new CountDownLatch(1);
        final CountDownLatch writeGate = new CountDownLatch(1);
        final AtomicInteger flushes = new AtomicInteger();
        private volatile boolean stallWrites;

        MemoryExport(int sizeBytes) {
            this.data = new byte[sizeBytes];
        }

        void stallWrites() {
            stallWrites = true;
        }

        @Override
        public String name() {
            return "mem/disk";
        }

        @Override
        public String setName() {
            return "mem";
        }

        @Override
        public long sizeBytes() {
            return data.length;
        }

        @Override
        public boolean isReadOnly() {
            return false;
        }

        @Override
        public void read(long offsetBytes, ByteBuffer dst) throws IOException {
            if (offsetBytes == IO_FAILURE_AT) {
                throw new IOException("disk on fire at " + offsetBytes);
            }
            if (offsetBytes == ARGUMENT_FAILURE_AT) {
                throw new IllegalArgumentException("odd offset " + offsetBytes);
            }
            if (offsetBytes == BUG_AT) {
                throw new IllegalStateException("a bug");
            }
            synchronized (data) {
                dst.put(data, (int) offsetBytes, dst.remaining());
            }
        }

        @Override
        public void write(long offsetBytes, ByteBuffer src, boolean fua) {
            writeEntered.countDown();
            if (stallWrites) {
                await(writeGate);
            }
            synchronized (data) {
                src.get(data, (int) offsetBytes, src.remaining());
            }
        }

        @Override
        public void trim(long offsetBytes, long lengthBytes, boolean fua) {
            writeZeroes(offsetBytes, lengthBytes, fua);
        }

        @Override
        public void writeZeroes(long offsetBytes, long lengthBytes, boolean fua) {
            synchronized (data) {
                java.util.Arrays.fill(data, (int) offsetBytes, (int) (offsetBytes + lengthBytes), (byte) 0);
            }
        }

        @Override
        public void flush() {
            flushes.incrementAndGet();
        }
    }
}
