package dev.rewind.capture.nbd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server (fixed newstyle, spec {@code doc/proto.md} of the NetworkBlockDevice/nbd
 * project) for the exports of an {@link NbdExports}.
 *
 * <p>Threads: one acceptor; one reader per connection, which runs the handshake and decodes
 * requests; a bounded pool of workers shared by all connections, which run requests and write
 * their replies (in any order, each whole under the connection's write lock). Each connection
 * has a bounded number of requests in flight (128 by default), and READ and WRITE payloads
 * come from one pool of direct buffers with a byte budget (256 MiB by default), so a busy
 * client is slowed down rather than the heap filled.
 *
 * <p>{@link #close()} stops accepting, lets every request already read finish and be
 * answered, flushes every writable export in use, and closes the connections.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    /**
     * Tuning of a server, validated here.
     *
     * @param workerThreads                     threads running requests, shared by all connections
     * @param maxRequestsInFlightPerConnection  requests read but not yet answered, per connection
     * @param bufferBudgetBytes                 READ/WRITE payload bytes held at once, all connections together (at least 32 MiB)
     * @param retainedBufferBytes               payload buffers kept for reuse
     * @param drainTimeout                      how long closing waits for requests in flight before dropping a connection
     * @param payloadTimeout                    how long a client may take to send one write's payload before it is
     *                                          disconnected (a stalled client must not keep the payload budget)
     */
    record Settings(int workerThreads, int maxRequestsInFlightPerConnection, long bufferBudgetBytes, long retainedBufferBytes,
                    Duration drainTimeout, Duration payloadTimeout) {
        static final Settings DEFAULT = new Settings(Math.max(8, Math.min(64, 4 * Runtime.getRuntime().availableProcessors())), 128,
                256L << 20, 64L << 20, Duration.ofSeconds(30), Duration.ofSeconds(20));

        Settings(int workerThreads, int maxRequestsInFlightPerConnection, long bufferBudgetBytes, long retainedBufferBytes,
                 Duration drainTimeout) {
            this(workerThreads, maxRequestsInFlightPerConnection, bufferBudgetBytes, retainedBufferBytes, drainTimeout, Duration.ofSeconds(20));
        }

        Settings {
            if (workerThreads < 1 || maxRequestsInFlightPerConnection < 1 || bufferBudgetBytes < NbdProtocol.MAX_BLOCK_BYTES
                    || retainedBufferBytes < 0 || drainTimeout.isNegative()) {
                throw new IllegalArgumentException("invalid NBD server settings " + this + ": need at least 1 worker thread and 1 request"
                        + " in flight, a buffer budget of at least " + NbdProtocol.MAX_BLOCK_BYTES + " bytes, no negative sizes or timeout");
            }
        }
    }

    private final ServerSocketChannel acceptorChannel;
    private final NbdExports exports;
    private final Settings settings;
    private final NbdBufferPool buffers;
    private final ThreadPoolExecutor workers;
    private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    private final Thread acceptor;
    private final int port;
    private volatile boolean closing;
    private final java.util.concurrent.ScheduledExecutorService watchdog;

    private NbdServer(ServerSocketChannel acceptorChannel, NbdExports exports, Settings settings) throws IOException {
        this.acceptorChannel = acceptorChannel;
        this.exports = exports;
        this.settings = settings;
        this.port = ((InetSocketAddress) acceptorChannel.getLocalAddress()).getPort();
        this.buffers = new NbdBufferPool(settings.bufferBudgetBytes(), settings.retainedBufferBytes());
        this.workers = new ThreadPoolExecutor(settings.workerThreads(), settings.workerThreads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), namedDaemonThreads("rewind-nbd-worker-" + port + "-"));
        this.workers.allowCoreThreadTimeOut(true);
        this.acceptor = new Thread(this::acceptLoop, "rewind-nbd-acceptor-" + port);
        this.acceptor.setDaemon(true);
        this.watchdog = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(namedDaemonThreads("rewind-nbd-watchdog-" + port + "-"));
        long periodMillis = Math.max(10, Math.min(1000, settings.payloadTimeout().toMillis() / 4));
        this.watchdog.scheduleWithFixedDelay(this::dropStalledClients, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Disconnects every client that started sending a write's payload longer ago than the payload timeout. */
    private void dropStalledClients() {
        long now = System.nanoTime();
        for (NbdConnection c : connections) {
            c.closeIfPayloadStalled(now, settings.payloadTimeout().toNanos());
        }
    }

    /** Listens on {@code address} (e.g. 127.0.0.1:10809; port 0 picks a free port) and serves {@code exports}. */
    public static NbdServer start(InetSocketAddress address, NbdExports exports) throws IOException {
        return start(address, exports, Settings.DEFAULT);
    }

    static NbdServer start(InetSocketAddress address, NbdExports exports, Settings settings) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address, 128);
            NbdServer server = new NbdServer(channel, exports, settings);
            server.acceptor.start();
            LOG.debug("nbd server listening on {}", channel.getLocalAddress());
            return server;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The TCP port the server listens on. */
    public int port() {
        return port;
    }

    /** Connections in transmission on an export of set {@code setName}. */
    public int connectionCount(String setName) {
        return (int) connections.stream().filter(c -> c.isOnSet(setName)).count();
    }

    /**
     * Drops every connection on an export of set {@code setName}, the way {@link #close()}
     * does (requests already read finish and are answered, the export is flushed), and returns
     * once they are closed.
     */
    public void disconnect(String setName) {
        List<NbdConnection> onSet = connections.stream().filter(c -> c.isOnSet(setName)).toList();
        onSet.forEach(NbdConnection::stopReading);
        awaitFinished(onSet);
    }

    /** Stops accepting, lets requests in flight finish, flushes writable exports, closes every connection. Idempotent. */
    @Override
    public void close() {
        watchdog.shutdown();
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        try {
            acceptorChannel.close();
        } catch (IOException e) {
            LOG.warn("nbd server on port {}: closing the listening socket: {}", port, e.toString());
        }
        try {
            acceptor.join(settings.drainTimeout().toMillis() + 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<NbdConnection> all = List.copyOf(connections);
        all.forEach(NbdConnection::stopReading);
        awaitFinished(all);
        workers.shutdown();
        try {
            if (!workers.awaitTermination(settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("nbd server on port {}: workers still busy after {}", port, settings.drainTimeout());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.debug("nbd server on port {} closed", port);
    }

    private void awaitFinished(List<NbdConnection> list) {
        try {
            for (NbdConnection c : list) {
                c.awaitFinished(settings.drainTimeout());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel channel;
            try {
                channel = acceptorChannel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closing) {
                    return;
                }
                LOG.warn("nbd server on port {}: accept failed: {}", port, e.toString());
                pause();
                continue;
            }
            try {
                if (closing) {
                    channel.close();
                    return;
                }
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                NbdConnection connection = new NbdConnection(this, connectionIds.incrementAndGet(), channel,
                        settings.maxRequestsInFlightPerConnection());
                connections.add(connection);
                try {
                    connection.start();
                } catch (RuntimeException | OutOfMemoryError e) {
                    connections.remove(connection);
                    throw e;
                }
            } catch (IOException | RuntimeException | OutOfMemoryError e) {
                LOG.warn("nbd server on port {}: cannot serve a new connection: {}", port, e.toString());
                closeQuietly(channel);
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close: {}", e.toString());
        }
    }

    private static ThreadFactory namedDaemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ---- for connections ----

    NbdExports exports() {
        return exports;
    }

    NbdBufferPool buffers() {
        return buffers;
    }

    ExecutorService workers() {
        return workers;
    }

    boolean isClosing() {
        return closing;
    }

    Duration drainTimeout() {
        return settings.drainTimeout();
    }

    void connectionFinished(NbdConnection connection) {
        connections.remove(connection);
    }
}
