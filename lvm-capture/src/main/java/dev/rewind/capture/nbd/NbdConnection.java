package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;

import dev.rewind.capture.nbd.NbdMessage.CommandRequest;
import dev.rewind.capture.nbd.NbdMessage.HardDisconnect;
import dev.rewind.capture.nbd.NbdMessage.RejectedRequest;
import dev.rewind.capture.nbd.NbdMessage.WriteRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client: its reader thread runs the handshake ({@link NbdNegotiation}), then decodes
 * requests and hands each to the server's worker pool; workers run it against the export and
 * write the reply, in whatever order they finish. At the end (NBD_CMD_DISC, the client going away, a protocol
 * violation, or the server stopping it) the requests in flight finish and are answered, a
 * writable export is flushed, and the socket is closed.
 */
final class NbdConnection {
    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);
    private static final int INBOUND_BUFFER_BYTES = 128 << 10;

    private final NbdServer server;
    private final long id;
    private final SocketChannel channel;
    /** When the client started the payload being read now; 0 when no payload is being read. */
    private volatile long payloadSinceNanos;
    private final String peer;
    private final NbdDecoder decoder;
    private final NbdReplyWriter replies;
    private final Semaphore requestPermits;
    private final Object idleLock = new Object();
    private final CountDownLatch finished = new CountDownLatch(1);
    private int inFlight;

    // set by the reader thread when transmission starts, before any request is handed to a worker
    private volatile NbdExport export;
    private boolean structuredReplies;

    NbdConnection(NbdServer server, long id, SocketChannel channel, int maxRequestsInFlight) {
        this.server = server;
        this.id = id;
        this.channel = channel;
        this.peer = remoteAddress(channel);
        this.decoder = new NbdDecoder(server.buffers());
        this.replies = new NbdReplyWriter(channel);
        this.requestPermits = new Semaphore(maxRequestsInFlight);
    }

    /** Starts the reader thread. */
    void start() {
        Thread reader = new Thread(this::run, "rewind-nbd-connection-" + id);
        reader.setDaemon(true);
        reader.start();
    }

    /** True while this connection is in transmission on an export of set {@code setName}. */
    boolean isOnSet(String setName) {
        NbdExport e = export;
        return e != null && finished.getCount() > 0 && e.setName().equals(setName);
    }

    /**
     * Stops taking requests: the reader sees end of input, the requests already read finish
     * and are answered, then the connection closes. Returns at once.
     */
    void stopReading() {
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            LOG.debug("nbd connection {}: shutting down input: {}", id, e.toString());
        }
    }

    /** Waits until the connection has closed; after {@code timeout}, drops it hard. */
    void awaitFinished(Duration timeout) throws InterruptedException {
        if (!finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            LOG.warn("nbd connection {} from {}: requests still running after {}; dropping the connection", id, peer, timeout);
            closeChannel();
            finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    // ---- reader thread ----

    private void run() {
        ByteBuffer inbound = ByteBuffer.allocateDirect(INBOUND_BUFFER_BYTES).flip();
        try {
            replies.greeting();
            NbdNegotiation negotiation = new NbdNegotiation("connection " + id + " from " + peer, server.exports(), replies,
                    server::isClosing);
            if (negotiation.run(() -> next(inbound), this::enterTransmission).isPresent()) {
                transmit(inbound);
            }
        } catch (ClosedChannelException e) {
            LOG.debug("nbd connection {}: closed", id);
        } catch (IOException e) {
            LOG.debug("nbd connection {} from {}: {}", id, peer, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.warn("nbd connection {} from {}: unexpected failure, closing the connection", id, peer, e);
        } finally {
            finish();
        }
    }

    /** The next message from the client; null once it has closed its side (or we stopped reading). */
    private NbdMessage next(ByteBuffer inbound) throws IOException, InterruptedException {
        for (;;) {
            NbdMessage message = decoder.decode(inbound);
            if (message != null) {
                payloadSinceNanos = 0;
                return message;
            }
            ByteBuffer payload = decoder.payloadToFill();
            if (payload != null) {
                if (payloadSinceNanos == 0) {
                    payloadSinceNanos = System.nanoTime();
                }
                if (channel.read(payload) < 0) {
                    return null;
                }
                continue;
            }
            inbound.clear();
            int n = channel.read(inbound);
            inbound.flip();
            if (n < 0) {
                return null;
            }
        }
    }

    private void enterTransmission(NbdNegotiation.Agreement agreement) {
        NbdExport e = agreement.export();
        structuredReplies = agreement.structuredReplies();
        decoder.enterTransmission(e.sizeBytes(), e.isReadOnly(), agreement.structuredReplies(), agreement.blockStatus());
        export = e;
        LOG.debug("nbd connection {} from {}: serving {} ({} bytes{})", id, peer, e.name(), e.sizeBytes(), e.isReadOnly() ? ", read-only" : "");
    }

    /** Requests until DISC, end of input or a violation; each goes to a worker. */
    private void transmit(ByteBuffer inbound) throws IOException, InterruptedException {
        for (;;) {
            NbdMessage message = next(inbound);
            if (message == null) {
                return;
            }
            if (message instanceof HardDisconnect d) {
                LOG.info("nbd connection {} from {}: {}; disconnecting", id, peer, d.reason());
                return;
            }
            if (message instanceof RejectedRequest r) {
                LOG.debug("nbd connection {}: refused: {}", id, r.message());
                replyError(r.command(), r.error(), r.message());
            } else if (message instanceof WriteRequest w) {
                submit(w.command(), w.payload());
            } else {
                CommandRequest c = (CommandRequest) message;
                if (c.type() == CMD_DISC) {
                    LOG.debug("nbd connection {}: NBD_CMD_DISC", id);
                    return;
                }
                ByteBuffer buffer = null;
                if (c.type() == CMD_READ && c.length() > 0) {
                    buffer = server.buffers().acquire(c.length());
                }
                submit(c, buffer);
            }
        }
    }

    private void submit(CommandRequest c, ByteBuffer buffer) throws IOException, InterruptedException {
        try {
            requestPermits.acquire();
        } catch (InterruptedException e) {
            releaseBuffer(buffer);
            throw e;
        }
        synchronized (idleLock) {
            inFlight++;
        }
        try {
            server.workers().execute(() -> execute(c, buffer));
        } catch (RejectedExecutionException e) {
            requestDone(buffer);
            replyError(c, ESHUTDOWN, "the server is shutting down");
        }
    }

    // ---- worker threads ----

    private void execute(CommandRequest c, ByteBuffer buffer) {
        try {
            serve(c, buffer);
        } catch (IOException e) {
            LOG.debug("nbd connection {}: reply to handle {} not sent: {}", id, c.handle(), e.toString());
            closeChannel();
        } catch (RuntimeException e) {
            LOG.warn("nbd connection {}: failure while replying", id, e);
            closeChannel();
        } finally {
            requestDone(buffer);
        }
    }

    /** Runs an accepted request against the export and answers it. Throws only if the reply cannot be sent. */
    private void serve(CommandRequest c, ByteBuffer buffer) throws IOException {
        if (c.type() == CMD_WRITE_ZEROES && c.hasFlag(CMD_FLAG_FAST_ZERO)) {
            replyError(c, ENOTSUP, "fast zeroing is not supported: zeroing costs as much as writing");
            return;
        }
        NbdExport e = export;
        try {
            perform(e, c, buffer);
        } catch (IllegalArgumentException ex) {
            replyError(c, EINVAL, ex.getMessage());
            return;
        } catch (IOException | RuntimeException ex) {
            String message = ex.getMessage() != null ? ex.getMessage() : ex.toString();
            LOG.warn("nbd {} on {} at offset {} ({} bytes) failed: {}", commandName(c.type()), e.name(), c.offset(), c.lengthBytes(),
                    message);
            replyError(c, isNoSpace(ex) ? ENOSPC : EIO, message);
            return;
        }
        replySuccess(c, buffer);
    }

    private void perform(NbdExport e, CommandRequest c, ByteBuffer buffer) throws IOException {
        long lengthBytes = c.lengthBytes();
        boolean fua = c.hasFlag(CMD_FLAG_FUA);
        switch (c.type()) {
            case CMD_READ -> {
                if (lengthBytes > 0) {
                    e.read(c.offset(), buffer);
                    if (buffer.hasRemaining()) {
                        throw new IOException("export " + e.name() + " left " + buffer.remaining() + " of " + lengthBytes + " bytes unread");
                    }
                    buffer.flip();
                }
            }
            case CMD_WRITE -> {
                if (lengthBytes > 0) {
                    e.write(c.offset(), buffer, fua);
                }
            }
            case CMD_FLUSH -> e.flush();
            case CMD_TRIM -> {
                if (lengthBytes > 0) {
                    e.trim(c.offset(), lengthBytes, fua);
                }
            }
            case CMD_WRITE_ZEROES -> {
                if (lengthBytes > 0) {
                    e.writeZeroes(c.offset(), lengthBytes, fua); // NO_HOLE or not, the range is written with zeros
                }
            }
            case CMD_BLOCK_STATUS -> {
                // base:allocation: the whole range is reported as allocated data (status 0)
            }
            default -> throw new IllegalStateException("the decoder let " + commandName(c.type()) + " through");
        }
    }

    private void replySuccess(CommandRequest c, ByteBuffer buffer) throws IOException {
        if (c.type() == CMD_READ) {
            if (c.length() == 0) {
                if (structuredReplies) {
                    replies.noneChunk(c.handle());
                } else {
                    replies.simpleReply(c.handle(), 0);
                }
            } else if (structuredReplies) {
                replies.offsetDataChunk(c.handle(), c.offset(), buffer, true);
            } else {
                replies.simpleReadReply(c.handle(), buffer);
            }
        } else if (c.type() == CMD_BLOCK_STATUS) {
            replies.blockStatusChunk(c.handle(), BASE_ALLOCATION_ID, c.length(), 0);
        } else {
            replies.simpleReply(c.handle(), 0);
        }
    }

    /** An error reply: a structured error chunk with the message when negotiated, else a simple reply. */
    private void replyError(CommandRequest c, int error, String message) throws IOException {
        if (structuredReplies) {
            replies.errorChunk(c.handle(), error, message);
        } else {
            replies.simpleReply(c.handle(), error);
        }
    }

    private static boolean isNoSpace(Exception e) {
        String m = e.getMessage();
        return e instanceof IOException && m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded")
                || m.contains("File too large"));
    }

    private void requestDone(ByteBuffer buffer) {
        releaseBuffer(buffer);
        requestPermits.release();
        synchronized (idleLock) {
            if (--inFlight == 0) {
                idleLock.notifyAll();
            }
        }
    }

    private void releaseBuffer(ByteBuffer buffer) {
        if (buffer != null) {
            server.buffers().release(buffer);
        }
    }

    // ---- the end ----

    private void finish() {
        decoder.close();
        try {
            if (!awaitIdle(server.drainTimeout())) {
                LOG.warn("nbd connection {} from {}: requests still running after {}; closing the socket", id, peer, server.drainTimeout());
                closeChannel();
                awaitIdle(server.drainTimeout());
            }
            NbdExport e = export;
            if (e != null && !e.isReadOnly()) {
                try {
                    e.flush();
                } catch (IOException | RuntimeException ex) {
                    LOG.warn("nbd connection {}: flushing {} at disconnect failed: {}", id, e.name(), ex.toString());
                }
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        } finally {
            closeChannel();
            server.connectionFinished(this);
            finished.countDown();
            LOG.debug("nbd connection {} from {}: closed", id, peer);
        }
    }

    private boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (idleLock) {
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(idleLock, left);
            }
            return true;
        }
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("nbd connection {}: close: {}", id, e.toString());
        }
    }

    /**
     * Closes the socket if the client has been sending one payload for longer than
     * {@code timeoutNanos}: the reader then fails, and the connection gives its buffer back.
     */
    void closeIfPayloadStalled(long nowNanos, long timeoutNanos) {
        long since = payloadSinceNanos;
        if (since != 0 && nowNanos - since > timeoutNanos) {
            LOG.info("nbd connection {} from {}: no complete write payload within {} ms; disconnecting", id, peer, timeoutNanos / 1_000_000);
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("nbd connection {}: closing: {}", id, e.toString());
            }
        }
    }

    private static String remoteAddress(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }
}
