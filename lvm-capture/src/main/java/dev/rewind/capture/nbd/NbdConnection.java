package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;

import dev.rewind.capture.nbd.NbdMessage.CommandRequest;
import dev.rewind.capture.nbd.NbdMessage.HardDisconnect;
import dev.rewind.capture.nbd.NbdMessage.RejectedRequest;
import dev.rewind.capture.nbd.NbdMessage.WriteRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client: its reader thread runs the handshake ({@link NbdNegotiation}), then decodes
 * requests and admits each into the connection's {@link NbdReplyQueue} (waiting, and so not
 * reading the socket, while the connection is at its cap). Writes, trims and write-zeroes
 * without FUA it runs itself, writing their replies in batches; every other request goes to
 * the server's worker pool, whose workers run it and queue the reply, in whatever order they
 * finish, for the connection's writer thread. At the end (NBD_CMD_DISC, the client going away, a protocol
 * violation, or the server stopping it) the requests in flight finish and are answered, a
 * writable export is flushed, and the socket is closed.
 */
final class NbdConnection {
    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);
    private static final int INBOUND_BUFFER_BYTES = 128 << 10;

    private final NbdServer server;
    private final long id;
    private final SocketChannel channel;
    /** What requests are read from and the socket closed through: the socket, or TLS over it after NBD_OPT_STARTTLS. */
    private volatile ByteChannel io;
    /** TLS for this connection (off on a Unix socket). */
    private final NbdTls tls;
    /** When the client started the payload being read now; 0 when no payload is being read. */
    private volatile long payloadSinceNanos;
    private final String peer;
    /** The client's IP address; null on a Unix socket. */
    private final java.net.InetAddress peerAddress;
    /** Whether the client has sent any byte yet (see {@link NbdServer.Settings#silentTimeout}). */
    private volatile boolean heardFrom;
    private final NbdDecoder decoder;
    private final NbdReplyWriter replies;
    private final NbdReplyQueue queue;
    private final long acceptedNanos = System.nanoTime();
    private final CountDownLatch finished = new CountDownLatch(1);

    /** Replies of requests the reader ran itself, not yet written (see {@link #flushInlineReplies}). */
    private final ArrayList<NbdReply> inlineReplies = new ArrayList<>(NbdReplyWriter.MAX_BATCH_MESSAGES);

    /**
     * Why every export is served read-only to this client (another user on the Unix socket, a
     * TCP client without a checked certificate), or null when it may write.
     */
    private final String readOnlyBecause;
    /** Whether a client certificate checked during NBD_OPT_STARTTLS lifts {@link #readOnlyBecause}. */
    private final boolean verifiedTlsAllowsWrites;
    /** The option haggling of this connection, while it runs. */
    private NbdNegotiation negotiation;
    // set by the reader thread when transmission starts, before any request is handed to a worker
    private volatile NbdExport export;
    private boolean structuredReplies;

    /**
     * A connection on {@code channel}; {@code readOnlyBecause} non-null serves every export
     * read-only, saying why, unless {@code verifiedTlsAllowsWrites} and the client presents a
     * certificate that the server checks ({@link NbdTls#verifyPeer}).
     */
    NbdConnection(NbdServer server, long id, SocketChannel channel, NbdServer.Settings settings, String readOnlyBecause,
                  boolean verifiedTlsAllowsWrites, NbdTls tls) {
        this.server = server;
        this.io = channel;
        this.tls = tls;
        this.readOnlyBecause = readOnlyBecause;
        this.verifiedTlsAllowsWrites = verifiedTlsAllowsWrites;
        this.id = id;
        this.channel = channel;
        this.peer = remoteAddress(channel);
        this.peerAddress = inetAddress(channel);
        this.decoder = new NbdDecoder(server.buffers());
        this.replies = new NbdReplyWriter(channel);
        this.queue = new NbdReplyQueue(replies, server.buffers(), settings.maxRequestsInFlightPerConnection(),
                settings.maxReplyBytesPerConnection());
    }

    /** Starts the reader thread. */
    void start() {
        Thread reader = new Thread(this::run, "rewind-nbd-connection-" + id);
        reader.setDaemon(true);
        reader.start();
    }

    /** Who the client is, for the log: its address and port, or the Unix socket. */
    String peer() {
        return peer;
    }

    /** The client's IP address; null on a Unix socket. */
    java.net.InetAddress peerAddress() {
        return peerAddress;
    }

    /** True until the client has chosen an export (or the connection has ended). */
    boolean isNegotiating() {
        return export == null && finished.getCount() > 0;
    }

    /** Closes a connection still negotiating to make room for a new one; its reader then ends it. */
    void evict() {
        LOG.debug("nbd connection {} from {}: still negotiating at the connection limit; closed to make room", id, peer);
        drop();
    }

    /** True while this connection is in transmission on an export of set {@code setName}. */
    boolean isOnSet(String setName) {
        NbdExport e = export;
        return e != null && finished.getCount() > 0 && e.setName().equals(setName);
    }

    /** True while this connection is in transmission on an export of set {@code setName} as it is now (not a past one). */
    boolean isOnLiveExportOf(String setName) {
        NbdExport e = export;
        return isOnSet(setName) && e != null && !e.isPast();
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
            drop();
            finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    // ---- reader thread ----

    private void run() {
        ByteBuffer inbound = ByteBuffer.allocateDirect(INBOUND_BUFFER_BYTES).flip();
        try {
            replies.greeting();
            negotiation = new NbdNegotiation("connection " + id + " from " + peer,
                    readOnlyBecause != null ? ReadOnlyExport.all(server.exports(), readOnlyBecause) : server.exports(), replies,
                    server::isClosing, tls.mode(), () -> startTls(inbound));
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

    /**
     * Runs the TLS handshake after NBD_OPT_STARTTLS was acknowledged, starting with whatever
     * the client already sent past the option in {@code inbound}; from then on, requests are
     * read and replies written through TLS.
     */
    private void startTls(ByteBuffer inbound) throws IOException {
        NbdTlsChannel secured;
        try {
            secured = NbdTlsChannel.handshake(channel, tls.newServerEngine(), inbound);
        } catch (NbdTlsChannel.ClosedDuringHandshake e) {
            LOG.debug("nbd connection {} from {}: {}", id, peer, e.getMessage()); // a flood of these must not fill the log
            throw e;
        } catch (SSLException e) {
            if (!channel.isOpen()) {
                throw e; // dropped by the server (a timeout, or evicted at the connection limit)
            }
            LOG.warn("nbd connection {} from {}: TLS handshake failed: {}; disconnecting", id, peer, e.getMessage());
            throw e;
        }
        inbound.clear().flip();
        io = secured;
        replies.switchTo(secured);
        if (readOnlyBecause != null && verifiedTlsAllowsWrites && tls.verifyPeer() && secured.hasVerifiedPeer()) {
            negotiation.serve(server.exports()); // a checked client certificate: this client may write
        }
        LOG.debug("nbd connection {} from {}: {} with {}", id, peer, secured.protocol(), secured.peerDescription());
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
                flushInlineReplies();
                if (io.read(payload) < 0) {
                    return null;
                }
                continue;
            }
            inbound.clear();
            flushInlineReplies();
            int n = io.read(inbound);
            inbound.flip();
            if (n < 0) {
                return null;
            }
            if (n > 0 && !heardFrom) {
                heardFrom = true;
            }
        }
    }

    private void enterTransmission(NbdNegotiation.Agreement agreement) {
        NbdExport e = agreement.export();
        structuredReplies = agreement.structuredReplies();
        decoder.enterTransmission(e.sizeBytes(), e.isReadOnly(), agreement.structuredReplies(), agreement.blockStatus());
        queue.start("rewind-nbd-writer-" + id, this::replyFailed);
        export = e;
        LOG.debug("nbd connection {} from {}: serving {} ({} bytes{})", id, peer, e.name(), e.sizeBytes(), e.isReadOnly() ? ", read-only" : "");
    }

    /** Requests until DISC, end of input or a violation; each runs here or goes to a worker. */
    private void transmit(ByteBuffer inbound) throws IOException, InterruptedException {
        try {
            transmitRequests(inbound);
        } finally {
            flushInlineReplies();
        }
    }

    private void transmitRequests(ByteBuffer inbound) throws IOException, InterruptedException {
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
                admit(0);
                queue.enqueue(errorReply(r.command(), r.error(), r.message()), null, 0);
            } else if (message instanceof WriteRequest w) {
                submitWrite(w);
            } else {
                CommandRequest c = (CommandRequest) message;
                if (c.type() == CMD_DISC) {
                    LOG.debug("nbd connection {}: NBD_CMD_DISC", id);
                    return;
                }
                submitCommand(c);
            }
        }
    }

    /** Admits a request; replies held for a batch are written first if admission would wait for them. */
    private void admit(int replyBytes) throws IOException, InterruptedException {
        if (!inlineReplies.isEmpty() && queue.atCap(replyBytes)) {
            flushInlineReplies();
        }
        queue.admit(replyBytes);
    }

    /** Admits a WRITE (its payload already read into a pool buffer) and submits it. */
    private void submitWrite(WriteRequest w) throws IOException, InterruptedException {
        try {
            admit(0);
        } catch (IOException | InterruptedException e) {
            releaseBuffer(w.payload());
            throw e;
        }
        if (runsInline(w.command())) {
            executeInline(w.command(), w.payload());
        } else {
            submit(w.command(), w.payload(), 0);
        }
    }

    /**
     * Whether the reader runs a request itself instead of handing it to a worker: a write,
     * trim or write-zeroes without FUA only reaches the page cache (journal, dirty region
     * bits made durable in groups, primary), so a hand-off to a worker and back costs more
     * than the request. Reads (which may wait for the disk), flushes and FUA go to workers,
     * so the connection keeps reading behind them.
     */
    private static boolean runsInline(CommandRequest c) {
        return (c.type() == CMD_WRITE || c.type() == CMD_TRIM || c.type() == CMD_WRITE_ZEROES) && !c.hasFlag(CMD_FLAG_FUA);
    }

    /** Runs an admitted request on the reader thread and holds its reply for the next batch (see {@link #flushInlineReplies}). */
    private void executeInline(CommandRequest c, ByteBuffer buffer) {
        NbdReply reply = serveOrFail(c, buffer);
        releaseBuffer(buffer);
        inlineReplies.add(reply);
        if (inlineReplies.size() == NbdReplyWriter.MAX_BATCH_MESSAGES) {
            flushInlineReplies();
        }
    }

    /**
     * Writes the replies of the requests run inline since the last call, in one gathering write.
     * Called before the reader could block on the socket, so a reply waits only while more
     * requests are already at hand: a client pipelining writes gets its replies in batches,
     * one system call (and one wake-up of the client) per batch instead of per request.
     */
    private void flushInlineReplies() {
        if (!inlineReplies.isEmpty()) {
            queue.writeOrEnqueueAll(inlineReplies);
            inlineReplies.clear();
        }
    }

    /** Admits a READ (its reply bytes counted against the connection's cap) or a command without payload, and submits it. */
    private void submitCommand(CommandRequest c) throws IOException, InterruptedException {
        int replyBytes = c.type() == CMD_READ ? c.length() : 0;
        admit(replyBytes);
        ByteBuffer buffer = null;
        if (replyBytes > 0) {
            try {
                buffer = server.buffers().acquire(replyBytes);
            } catch (InterruptedException | RuntimeException | OutOfMemoryError e) {
                queue.cancel(replyBytes);
                throw e;
            }
        }
        if (runsInline(c)) {
            executeInline(c, buffer);
        } else {
            submit(c, buffer, replyBytes);
        }
    }

    private void submit(CommandRequest c, ByteBuffer buffer, int replyBytes) {
        try {
            server.workers().execute(() -> execute(c, buffer, replyBytes));
        } catch (RejectedExecutionException e) {
            queue.enqueue(errorReply(c, ESHUTDOWN, "the server is shutting down"), buffer, replyBytes);
        }
    }

    // ---- worker threads ----

    /** Runs a request and queues its reply; never waits on the client. */
    private void execute(CommandRequest c, ByteBuffer buffer, int replyBytes) {
        NbdReply reply = serveOrFail(c, buffer);
        if (c.type() == CMD_READ) {
            queue.enqueue(reply, buffer, replyBytes); // the buffer goes back once the data is on the wire
        } else {
            releaseBuffer(buffer); // a WRITE's payload is in the journal: give it back before the client reads the reply
            queue.enqueue(reply, null, replyBytes);
        }
    }

    /** {@link #serve}, with an unexpected failure answered as EIO instead of thrown. */
    private NbdReply serveOrFail(CommandRequest c, ByteBuffer buffer) {
        try {
            return serve(c, buffer);
        } catch (RuntimeException e) {
            LOG.warn("nbd connection {}: failure while serving handle {}", id, c.handle(), e);
            return errorReply(c, EIO, "internal error: " + e);
        }
    }

    /** Runs an accepted request against the export; returns its reply. */
    private NbdReply serve(CommandRequest c, ByteBuffer buffer) {
        if (c.type() == CMD_WRITE_ZEROES && c.hasFlag(CMD_FLAG_FAST_ZERO)) {
            return errorReply(c, ENOTSUP, "fast zeroing is not supported: zeroing costs as much as writing");
        }
        NbdExport e = export;
        try {
            perform(e, c, buffer);
        } catch (IllegalArgumentException ex) {
            return errorReply(c, EINVAL, ex.getMessage());
        } catch (IOException | RuntimeException ex) {
            String message = ex.getMessage() != null ? ex.getMessage() : ex.toString();
            LOG.warn("nbd {} on {} at offset {} ({} bytes) failed: {}", commandName(c.type()), e.name(), c.offset(), c.lengthBytes(),
                    message);
            return errorReply(c, isNoSpace(ex) ? ENOSPC : EIO, message);
        }
        return successReply(c, buffer);
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

    private NbdReply successReply(CommandRequest c, ByteBuffer buffer) {
        if (c.type() == CMD_READ) {
            if (c.length() == 0) {
                return structuredReplies ? new NbdReply.None(c.handle()) : new NbdReply.Simple(c.handle(), 0);
            }
            return structuredReplies ? new NbdReply.OffsetData(c.handle(), c.offset(), buffer) : new NbdReply.SimpleRead(c.handle(), buffer);
        } else if (c.type() == CMD_BLOCK_STATUS) {
            return new NbdReply.BlockStatus(c.handle(), BASE_ALLOCATION_ID, c.length(), 0);
        }
        return new NbdReply.Simple(c.handle(), 0);
    }

    /** An error reply: a structured error chunk with the message when negotiated, else a simple reply. */
    private NbdReply errorReply(CommandRequest c, int error, String message) {
        return structuredReplies ? new NbdReply.ErrorChunk(c.handle(), error, message) : new NbdReply.Simple(c.handle(), error);
    }

    private static boolean isNoSpace(Exception e) {
        String m = e.getMessage();
        return e instanceof IOException && m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded")
                || m.contains("File too large"));
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
            if (!queue.awaitIdle(server.drainTimeout())) {
                LOG.warn("nbd connection {} from {}: requests still running after {}; closing the socket", id, peer, server.drainTimeout());
                drop();
                queue.awaitIdle(server.drainTimeout());
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
            try {
                queue.stop(server.drainTimeout());
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            drop();
            server.connectionFinished(this);
            finished.countDown();
            LOG.debug("nbd connection {} from {}: closed", id, peer);
        }
    }

    /** Closes the socket and discards queued replies, giving their buffers back; wakes the reader if it waits to admit. */
    private void drop() {
        closeChannel();
        queue.abort();
    }

    private void closeChannel() {
        try {
            io.close();
        } catch (IOException e) {
            LOG.debug("nbd connection {}: close: {}", id, e.toString());
        }
    }

    /** The writer thread could not write a reply: the client is gone or was dropped. */
    private void replyFailed(Throwable e) {
        if (e instanceof IOException) {
            LOG.debug("nbd connection {} from {}: reply not sent: {}", id, peer, e.toString());
        } else {
            LOG.warn("nbd connection {} from {}: failure while writing a reply", id, peer, e);
        }
        drop();
    }

    /**
     * Drops the connection if it is past one of the {@code settings} timeouts at
     * {@code nowNanos}: still negotiating after the handshake timeout, in the middle of one
     * write's payload for longer than the payload timeout, or taking no byte of a reply for
     * longer than the reply timeout. The reader and writer then fail, and the buffers go back.
     * Returns true when it closed a connection still negotiating: those are counted in the
     * server's log, not logged one by one (a flood of them must not fill the log).
     */
    boolean closeIfStalled(long nowNanos, NbdServer.Settings settings) {
        if (finished.getCount() == 0 || !channel.isOpen()) {
            return false;
        }
        String why = null;
        long payloadSince = payloadSinceNanos;
        long writingSince = replies.writingSinceNanos();
        if (export == null && !heardFrom && nowNanos - acceptedNanos > settings.silentTimeout().toNanos()) {
            why = "nothing sent within " + settings.silentTimeout().toMillis() + " ms";
        } else if (export == null && nowNanos - acceptedNanos > settings.handshakeTimeout().toNanos()) {
            why = "option negotiation not finished within " + settings.handshakeTimeout().toMillis() + " ms";
        } else if (payloadSince != 0 && nowNanos - payloadSince > settings.payloadTimeout().toNanos()) {
            why = "no complete write payload within " + settings.payloadTimeout().toMillis() + " ms";
        } else if (writingSince != 0 && nowNanos - writingSince > settings.replyTimeout().toNanos()) {
            why = "replies not read for " + settings.replyTimeout().toMillis() + " ms";
        }
        if (why == null) {
            return false;
        }
        boolean negotiating = export == null;
        if (negotiating) {
            LOG.debug("nbd connection {} from {}: {}; disconnecting", id, peer, why);
        } else {
            LOG.info("nbd connection {} from {}: {}; disconnecting", id, peer, why);
        }
        drop();
        return negotiating;
    }

    private static java.net.InetAddress inetAddress(SocketChannel channel) {
        try {
            return channel.getRemoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The client: its TCP address, or on the Unix socket, who it is ({@link PeerCredentials#describe}). */
    private static String remoteAddress(SocketChannel channel) {
        try {
            java.net.SocketAddress remote = channel.getRemoteAddress();
            return remote instanceof java.net.UnixDomainSocketAddress ? "unix socket, " + PeerCredentials.describe(channel)
                    : String.valueOf(remote);
        } catch (IOException e) {
            return "?";
        }
    }

    /** The export this connection is in transmission on, or null while it negotiates or once it has finished. */
    NbdExport exportInTransmission() {
        NbdExport e = export;
        return e != null && finished.getCount() > 0 ? e : null;
    }
}
