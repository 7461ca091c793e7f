package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;

import dev.rewind.capture.nbd.NbdMessage.AbortOption;
import dev.rewind.capture.nbd.NbdMessage.ClientFlags;
import dev.rewind.capture.nbd.NbdMessage.CommandRequest;
import dev.rewind.capture.nbd.NbdMessage.ExportNameOption;
import dev.rewind.capture.nbd.NbdMessage.HardDisconnect;
import dev.rewind.capture.nbd.NbdMessage.InfoOption;
import dev.rewind.capture.nbd.NbdMessage.ListOption;
import dev.rewind.capture.nbd.NbdMessage.MetaContextOption;
import dev.rewind.capture.nbd.NbdMessage.RefusedOption;
import dev.rewind.capture.nbd.NbdMessage.RejectedRequest;
import dev.rewind.capture.nbd.NbdMessage.StructuredReplyOption;
import dev.rewind.capture.nbd.NbdMessage.WriteRequest;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client: its reader thread runs the handshake, then decodes requests and hands each to
 * the server's worker pool; workers run it against the export and write the reply, in
 * whatever order they finish. At the end (NBD_CMD_DISC, the client going away, a protocol
 * violation, or the server stopping it) the requests in flight finish and are answered, a
 * writable export is flushed, and the socket is closed.
 */
final class NbdConnection {
    private static final Logger LOG = LoggerFactory.getLogger(NbdConnection.class);
    private static final int INBOUND_BUFFER_BYTES = 128 << 10;

    private final NbdServer server;
    private final long id;
    private final SocketChannel channel;
    private final String peer;
    private final NbdDecoder decoder;
    private final NbdReplyWriter replies;
    private final Semaphore requestPermits;
    private final Object idleLock = new Object();
    private final CountDownLatch finished = new CountDownLatch(1);
    private int inFlight;

    // negotiation state: written by the reader thread before any request is handed to a worker
    private boolean noZeroes;
    private boolean structuredReplies;
    private String metaContextExportName;

    private volatile NbdExport export;

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
            if (negotiate(inbound)) {
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
                return message;
            }
            ByteBuffer payload = decoder.payloadToFill();
            if (payload != null) {
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

    /** Option haggling; true when transmission was entered. */
    private boolean negotiate(ByteBuffer inbound) throws IOException, InterruptedException {
        for (;;) {
            NbdMessage message = next(inbound);
            if (message == null) {
                return false;
            }
            if (message instanceof HardDisconnect d) {
                LOG.info("nbd connection {} from {}: {}; disconnecting", id, peer, d.reason());
                return false;
            }
            if (message instanceof ClientFlags f) {
                noZeroes = f.noZeroes();
                continue;
            }
            if (message instanceof MetaContextOption o && o.set()
                    || message instanceof RefusedOption r && r.option() == OPT_SET_META_CONTEXT) {
                metaContextExportName = null; // every NBD_OPT_SET_META_CONTEXT replaces the selection, even one that fails
            }
            if (server.isClosing() && !(message instanceof AbortOption)) {
                if (message instanceof ExportNameOption) {
                    LOG.info("nbd connection {} from {}: NBD_OPT_EXPORT_NAME while the server shuts down; disconnecting", id, peer);
                    return false;
                }
                replies.optionError(optionOf(message), REP_ERR_SHUTDOWN, "the server is shutting down");
                continue;
            }
            if (message instanceof ExportNameOption o) {
                Opened opened = open(o.exportName());
                if (opened.export == null) {
                    LOG.info("nbd connection {} from {}: NBD_OPT_EXPORT_NAME '{}': {}; disconnecting", id, peer, o.exportName(),
                            opened.refusal);
                    return false;
                }
                int flags = transmissionFlags(opened.export);
                enterTransmission(opened.export, o.exportName());
                replies.exportNameReply(opened.export.sizeBytes(), flags, noZeroes);
                return true;
            } else if (message instanceof InfoOption o) {
                if (answerInfo(o)) {
                    return true;
                }
            } else if (message instanceof ListOption) {
                for (String name : server.exports().names()) {
                    byte[] bytes = NbdReplyWriter.utf8Truncated(name);
                    replies.optionReply(OPT_LIST, REP_SERVER, ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip());
                }
                replies.optionReply(OPT_LIST, REP_ACK, null);
            } else if (message instanceof AbortOption) {
                replies.optionReply(OPT_ABORT, REP_ACK, null);
                return false;
            } else if (message instanceof StructuredReplyOption) {
                structuredReplies = true;
                replies.optionReply(OPT_STRUCTURED_REPLY, REP_ACK, null);
            } else if (message instanceof MetaContextOption o) {
                answerMetaContext(o);
            } else if (message instanceof RefusedOption r) {
                LOG.debug("nbd connection {}: {}", id, r.message());
                replies.optionError(r.option(), r.replyType(), r.message());
            } else {
                throw new IllegalStateException("unexpected message during option haggling: " + message);
            }
        }
    }

    /** NBD_OPT_INFO / NBD_OPT_GO; true when GO succeeded and transmission begins. */
    private boolean answerInfo(InfoOption o) throws IOException {
        int option = o.option();
        Opened opened = open(o.exportName());
        if (opened.export == null) {
            replies.optionError(option, REP_ERR_UNKNOWN, opened.refusal);
            return false;
        }
        NbdExport e = opened.export;
        replies.optionReply(option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(e.sizeBytes())
                .putShort((short) transmissionFlags(e)).flip());
        if (o.infoRequests().contains(INFO_NAME)) {
            replies.optionReply(option, REP_INFO, infoString(INFO_NAME, e.name()));
        }
        if (o.infoRequests().contains(INFO_DESCRIPTION) && !e.description().isEmpty()) {
            replies.optionReply(option, REP_INFO, infoString(INFO_DESCRIPTION, e.description()));
        }
        // Sent whether asked for or not: our maximum (32 MiB) is tighter than the default, and
        // requests outside it are refused cleanly with NBD_EINVAL either way.
        replies.optionReply(option, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE).putInt(MIN_BLOCK_BYTES)
                .putInt(PREFERRED_BLOCK_BYTES).putInt(MAX_BLOCK_BYTES).flip());
        if (o.go()) {
            enterTransmission(e, o.exportName()); // before the ACK, so that the export is counted once the client knows
        }
        replies.optionReply(option, REP_ACK, null);
        return o.go();
    }

    private void answerMetaContext(MetaContextOption o) throws IOException {
        int option = o.option();
        if (o.set()) {
            if (!structuredReplies) {
                replies.optionError(option, REP_ERR_INVALID, "negotiate NBD_OPT_STRUCTURED_REPLY before NBD_OPT_SET_META_CONTEXT");
                return;
            }
        }
        Opened opened = open(o.exportName());
        if (opened.export == null) {
            replies.optionError(option, REP_ERR_UNKNOWN, opened.refusal);
            return;
        }
        boolean matches = o.set()
                ? o.queries().contains(BASE_ALLOCATION)
                : o.queries().isEmpty() || o.queries().contains("base:") || o.queries().contains(BASE_ALLOCATION);
        if (matches) {
            byte[] name = BASE_ALLOCATION.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int contextId = o.set() ? BASE_ALLOCATION_ID : 0;
            replies.optionReply(option, REP_META_CONTEXT, ByteBuffer.allocate(4 + name.length).putInt(contextId).put(name).flip());
        }
        replies.optionReply(option, REP_ACK, null);
        if (o.set() && matches) {
            metaContextExportName = o.exportName();
        }
    }

    private void enterTransmission(NbdExport e, String exportName) {
        boolean blockStatus = structuredReplies && exportName.equals(metaContextExportName);
        decoder.enterTransmission(e.sizeBytes(), e.isReadOnly(), structuredReplies, blockStatus);
        export = e;
        LOG.debug("nbd connection {} from {}: serving {} ({} bytes{})", id, peer, e.name(), e.sizeBytes(),
                e.isReadOnly() ? ", read-only" : "");
    }

    /**
     * The transmission flags of {@code e}.
     * NBD_FLAG_CAN_MULTI_CONN: every export of a set writes through the set's one journal, a
     * write is in that journal before it is answered, and FLUSH and FUA force the whole
     * journal (set-wide group commit); there is no per-connection cache. So a flush on any
     * connection covers the writes answered on all of them. Read-only exports never change.
     */
    private int transmissionFlags(NbdExport e) {
        int flags = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_CAN_MULTI_CONN;
        if (e.isReadOnly()) {
            flags |= FLAG_READ_ONLY;
        } else {
            // FAST_ZERO is advertised and always refused with NBD_ENOTSUP: zeroing costs us a journal
            // record and a write of the primary, not meaningfully less than a write (allowed by the spec).
            flags |= FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO;
        }
        if (structuredReplies) {
            flags |= FLAG_SEND_DF; // a READ is always answered with one data chunk
        }
        return flags;
    }

    private record Opened(NbdExport export, String refusal) {
    }

    private Opened open(String exportName) {
        try {
            Optional<NbdExport> e = server.exports().open(exportName);
            return e.map(x -> new Opened(x, null))
                    .orElseGet(() -> new Opened(null, "there is no export '" + exportName + "'; NBD_OPT_LIST shows the exports"));
        } catch (RewindException e) {
            return new Opened(null, e.getMessage());
        } catch (IOException | RuntimeException e) {
            LOG.warn("nbd connection {}: opening export '{}' failed", id, exportName, e);
            return new Opened(null, "export '" + exportName + "' cannot be opened: " + e.getMessage());
        }
    }

    private static ByteBuffer infoString(int type, String text) {
        byte[] bytes = NbdReplyWriter.utf8Truncated(text);
        return ByteBuffer.allocate(2 + bytes.length).putShort((short) type).put(bytes).flip();
    }

    private static int optionOf(NbdMessage m) {
        if (m instanceof InfoOption o) {
            return o.option();
        } else if (m instanceof MetaContextOption o) {
            return o.option();
        } else if (m instanceof RefusedOption o) {
            return o.option();
        } else if (m instanceof ListOption) {
            return OPT_LIST;
        } else if (m instanceof StructuredReplyOption) {
            return OPT_STRUCTURED_REPLY;
        }
        throw new IllegalArgumentException(m.toString());
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

    private static String remoteAddress(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }
}
