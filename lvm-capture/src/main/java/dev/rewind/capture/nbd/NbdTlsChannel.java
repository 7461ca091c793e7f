package dev.rewind.capture.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * One connection's bytes through TLS after NBD_OPT_STARTTLS: an {@link SSLEngine} over the
 * connection's blocking {@link SocketChannel}, read by the connection's reader thread and
 * written by whoever holds the reply writer's lock. Reading and writing are independent (a
 * read lock and a write lock; the engine allows wrap and unwrap at once); a reader that must
 * answer the peer (a TLS 1.3 key update) takes the write lock for it.
 *
 * <p>Buffers are made once per connection and reused: {@code netIn} (records from the
 * socket), {@code appIn} (plaintext unwrapped but not yet taken), {@code netOut} (one
 * record being written). A gathering write wraps as many of the caller's buffers as fit in one
 * record, so a batch of small replies costs one record and one system call.
 */
final class NbdTlsChannel implements ByteChannel, GatheringByteChannel {
    private final SocketChannel socket;
    private final SSLEngine engine;
    private final ByteBuffer netIn;
    private final ByteBuffer appIn;
    private final ByteBuffer netOut;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private volatile boolean inboundDone;
    /** The one buffer of {@link #write(ByteBuffer)}, reused under the write lock. */
    private final ByteBuffer[] one = new ByteBuffer[1];

    /**
     * Runs the TLS handshake (the server side) on {@code socket}, starting with the bytes of
     * {@code alreadyRead} (read from the socket before STARTTLS was acted on), and returns the
     * channel for everything after. Throws when the handshake fails: the session must end.
     */
    static NbdTlsChannel handshake(SocketChannel socket, SSLEngine engine, ByteBuffer alreadyRead) throws IOException {
        NbdTlsChannel c = new NbdTlsChannel(socket, engine);
        if (alreadyRead.remaining() > c.netIn.capacity()) {
            throw new SSLException(alreadyRead.remaining() + " bytes sent after NBD_OPT_STARTTLS before its reply: not a TLS handshake");
        }
        c.netIn.clear();
        c.netIn.put(alreadyRead);
        c.netIn.flip();
        engine.beginHandshake();
        c.runHandshake();
        return c;
    }

    private NbdTlsChannel(SocketChannel socket, SSLEngine engine) {
        this.socket = socket;
        this.engine = engine;
        SSLSession session = engine.getSession();
        this.netIn = ByteBuffer.allocateDirect(session.getPacketBufferSize()).flip();
        this.appIn = ByteBuffer.allocateDirect(session.getApplicationBufferSize()).flip();
        this.netOut = ByteBuffer.allocateDirect(session.getPacketBufferSize());
    }

    /** Whether the client presented a certificate that the handshake checked against the server's trust. */
    boolean hasVerifiedPeer() {
        try {
            return engine.getNeedClientAuth() && engine.getSession().getPeerCertificates().length > 0;
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return false;
        }
    }

    /** The peer's certificate subject, or "no client certificate". */
    String peerDescription() {
        try {
            return engine.getSession().getPeerPrincipal().getName();
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return "no client certificate";
        }
    }

    String protocol() {
        return engine.getSession().getProtocol();
    }

    /** The client went away (or was dropped) in the middle of the TLS handshake: no refusal to tell anyone about. */
    static final class ClosedDuringHandshake extends SSLException {
        private static final long serialVersionUID = 1L;

        ClosedDuringHandshake() {
            super("the client closed the connection during the TLS handshake");
        }
    }

    private void runHandshake() throws IOException {
        readLock.lock();
        writeLock.lock();
        try {
            for (;;) {
                HandshakeStatus hs = engine.getHandshakeStatus();
                switch (hs) {
                    case NEED_WRAP -> wrapAndSend(EMPTY_ARRAY, 0, 0);
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                        if (unwrapOnce() < 0) {
                            throw new ClosedDuringHandshake();
                        }
                    }
                    case NEED_TASK -> runTasks();
                    default -> {
                        return;
                    }
                }
            }
        } finally {
            writeLock.unlock();
            readLock.unlock();
        }
    }

    private static final ByteBuffer[] EMPTY_ARRAY = {EMPTY};

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /**
     * Unwraps one record into {@link #appIn} (reading from the socket when a whole record is
     * not at hand); answers what the engine must send in return. Returns -1 at the end of input.
     * Read lock held.
     */
    private int unwrapOnce() throws IOException {
        for (;;) {
            appIn.compact();
            SSLEngineResult r;
            try {
                r = engine.unwrap(netIn, appIn);
            } finally {
                appIn.flip();
            }
            switch (r.getStatus()) {
                case OK -> {
                    afterUnwrap(r.getHandshakeStatus());
                    return r.bytesProduced();
                }
                case CLOSED -> {
                    inboundDone = true;
                    return -1;
                }
                case BUFFER_UNDERFLOW -> {
                    netIn.compact();
                    int n;
                    try {
                        n = socket.read(netIn);
                    } finally {
                        netIn.flip();
                    }
                    if (n < 0) {
                        inboundDone = true;
                        return -1;
                    }
                }
                case BUFFER_OVERFLOW -> {
                    if (appIn.hasRemaining()) {
                        return 0; // let the caller take the plaintext at hand first
                    }
                    throw new SSLException("a TLS record larger than the session's application buffer");
                }
                default -> throw new IllegalStateException(r.toString());
            }
        }
    }

    /** After a record: a key update or late handshake message may need an answer or a task. */
    private void afterUnwrap(HandshakeStatus hs) throws IOException {
        while (hs == HandshakeStatus.NEED_TASK || hs == HandshakeStatus.NEED_WRAP) {
            if (hs == HandshakeStatus.NEED_TASK) {
                runTasks();
            } else {
                writeLock.lock();
                try {
                    wrapAndSend(EMPTY_ARRAY, 0, 0);
                } finally {
                    writeLock.unlock();
                }
            }
            hs = engine.getHandshakeStatus();
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        readLock.lock();
        try {
            while (!appIn.hasRemaining()) {
                if (inboundDone || unwrapOnce() < 0) {
                    return -1;
                }
            }
            int n = Math.min(dst.remaining(), appIn.remaining());
            int limit = appIn.limit();
            appIn.limit(appIn.position() + n);
            dst.put(appIn);
            appIn.limit(limit);
            return n;
        } finally {
            readLock.unlock();
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        writeLock.lock();
        try {
            one[0] = src;
            return (int) wrapAndSend(one, 0, 1);
        } finally {
            one[0] = null;
            writeLock.unlock();
        }
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    /** Wraps one TLS record's worth of {@code srcs} and writes it whole; returns the plaintext bytes consumed. */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        writeLock.lock();
        try {
            return wrapAndSend(srcs, offset, length);
        } finally {
            writeLock.unlock();
        }
    }

    /** Write lock held. */
    private long wrapAndSend(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (!socket.isOpen()) {
            throw new ClosedChannelException();
        }
        netOut.clear();
        SSLEngineResult r = engine.wrap(srcs, offset, length, netOut);
        netOut.flip();
        while (netOut.hasRemaining()) {
            socket.write(netOut);
        }
        if (r.getStatus() == SSLEngineResult.Status.CLOSED && r.bytesConsumed() == 0 && hasRemaining(srcs, offset, length)) {
            throw new ClosedChannelException();
        }
        if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
            throw new SSLException("a TLS record larger than the session's packet buffer");
        }
        HandshakeStatus hs = r.getHandshakeStatus();
        if (hs == HandshakeStatus.NEED_TASK) {
            runTasks();
        }
        return r.bytesConsumed();
    }

    private static boolean hasRemaining(ByteBuffer[] srcs, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (srcs[i].hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    /**
     * Sends TLS close_notify when no reply is being written at the moment (best effort: a
     * client that does not read must not hold up closing), then closes the socket.
     */
    @Override
    public void close() throws IOException {
        try {
            if (socket.isOpen() && writeLock.tryLock()) {
                try {
                    engine.closeOutbound();
                    wrapAndSend(EMPTY_ARRAY, 0, 0);
                } catch (IOException e) {
                    // the peer is gone; closing anyway
                } finally {
                    writeLock.unlock();
                }
            }
        } finally {
            socket.close();
        }
    }
}
