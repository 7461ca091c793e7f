package dev.rewind.capture.nbd;

import java.io.IOException;
import dev.rewind.volumeset.io.PrivateFiles;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Optional;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * <p>Listens on TCP and/or a Unix domain socket ({@link #start(List, NbdExports, Settings)}); TCP
 * listeners may offer or require TLS ({@link NbdTls}, {@link #start(List, NbdExports, Settings, NbdTls)}).
 * Threads: one acceptor per listening socket; one reader per connection, which runs the handshake and decodes
 * requests; a bounded pool of workers shared by all connections, which run requests and queue
 * their replies (in any order); one writer per connection in transmission, which alone writes
 * that connection's replies to its socket ({@link NbdReplyQueue}), so a shared worker never
 * waits on a client. Each connection has a bounded number of requests in flight (128 by
 * default) and of READ reply bytes queued (16 MiB); at either cap its reader stops reading
 * its socket. READ and WRITE payloads come from one pool of direct buffers with a byte budget
 * (256 MiB by default), so a busy client is slowed down rather than the heap filled.
 *
 * <p>Limits on clients ({@link Settings}): each listening socket has its own budget of
 * {@code maxConnections} connections, so a flood on TCP does not lock out the Unix socket's
 * clients; on TCP, one client address holds at most {@code maxConnectionsPerPeer} of them. At
 * a limit, the oldest connection still negotiating is closed to make room for the new one,
 * which is refused only when every connection in its way is in transmission
 * ({@link ConnectionBudget}; refusals are logged once per interval with their count). A
 * watchdog closes a connection that has sent nothing within the silent timeout, has not
 * finished negotiating within the handshake timeout, has not sent a write's payload within the
 * payload timeout, or has not taken any byte of its replies within the reply timeout, and its
 * buffers go back to the pool.
 *
 * <p>{@link #close()} stops accepting, lets every request already read finish and be
 * answered, flushes every writable export in use, and closes the connections.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    /**
     * Tuning of a server, validated here (each bad value is named with its allowed range).
     *
     * @param workerThreads                     threads running requests, shared by all connections
     * @param maxRequestsInFlightPerConnection  requests read but not yet answered on the wire, per connection
     * @param maxReplyBytesPerConnection        READ reply bytes admitted but not yet written, per connection (one
     *                                          larger READ is let through when nothing else is queued)
     * @param bufferBudgetBytes                 READ/WRITE payload bytes held at once, all connections together (at least 32 MiB)
     * @param retainedBufferBytes               payload buffers kept for reuse
     * @param maxConnections                    connections open at once on each listening socket (in handshake or transmission)
     * @param maxConnectionsPerPeer             connections open at once from one client address on a TCP listener
     * @param handshakeTimeout                  how long a client may take from connecting to finishing option negotiation
     * @param silentTimeout                     how long a client may take from connecting to sending its first byte
     * @param payloadTimeout                    how long a client may take to send one write's payload before it is
     *                                          disconnected (a stalled client must not keep the payload budget)
     * @param replyTimeout                      how long a client may go without taking any byte of a reply being written
     *                                          to it before it is disconnected and its buffers go back to the pool
     * @param drainTimeout                      how long closing waits for requests in flight before dropping a connection
     */
    public record Settings(int workerThreads, int maxRequestsInFlightPerConnection, long maxReplyBytesPerConnection,
                           long bufferBudgetBytes, long retainedBufferBytes, int maxConnections, int maxConnectionsPerPeer,
                           Duration handshakeTimeout, Duration silentTimeout, Duration payloadTimeout, Duration replyTimeout,
                           Duration drainTimeout) {
        /** Connections at once by default: see {@link #DEFAULT}. */
        public static final int DEFAULT_MAX_CONNECTIONS = 128;
        public static final int DEFAULT_MAX_CONNECTIONS_PER_PEER = 64;
        public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
        public static final Duration DEFAULT_SILENT_TIMEOUT = Duration.ofSeconds(3);
        public static final Duration DEFAULT_REPLY_TIMEOUT = Duration.ofSeconds(30);
        static final long DEFAULT_MAX_REPLY_BYTES_PER_CONNECTION = 16L << 20;
        /** Most connections and longest timeout accepted. */
        public static final int MAX_CONNECTIONS_LIMIT = 4096;
        public static final Duration MAX_TIMEOUT = Duration.ofHours(1);

        /**
         * The defaults. 128 connections per listening socket: each costs a reader and, in
         * transmission, a writer thread, and up to 16 MiB of queued READ data; 128 leaves room
         * for several databases whose clients open one connection per CPU (the kernel client
         * with multi-conn, nbdcopy's 4) while a flood of connections cannot exhaust threads or
         * memory. 64 per client address: one host gets half, so one flooding host leaves the
         * other half to the rest. Silent timeout 3 s: a real client answers the greeting at
         * once. Handshake timeout 10 s, as qemu-nbd. Reply timeout 30 s: longer than any pause a
         * live client makes between taking bytes, short enough to free a dead client's buffers.
         */
        public static final Settings DEFAULT = new Settings(Math.max(8, Math.min(64, 4 * Runtime.getRuntime().availableProcessors())), 128,
                DEFAULT_MAX_REPLY_BYTES_PER_CONNECTION, 256L << 20, 64L << 20, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_PEER,
                DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_SILENT_TIMEOUT, Duration.ofSeconds(20), DEFAULT_REPLY_TIMEOUT, Duration.ofSeconds(30));

        /** With the default per-address share and silent timeout. */
        public Settings(int workerThreads, int maxRequestsInFlightPerConnection, long maxReplyBytesPerConnection, long bufferBudgetBytes,
                        long retainedBufferBytes, int maxConnections, Duration handshakeTimeout, Duration payloadTimeout,
                        Duration replyTimeout, Duration drainTimeout) {
            this(workerThreads, maxRequestsInFlightPerConnection, maxReplyBytesPerConnection, bufferBudgetBytes, retainedBufferBytes,
                    maxConnections, DEFAULT_MAX_CONNECTIONS_PER_PEER, handshakeTimeout, DEFAULT_SILENT_TIMEOUT, payloadTimeout,
                    replyTimeout, drainTimeout);
        }

        Settings(int workerThreads, int maxRequestsInFlightPerConnection, long bufferBudgetBytes, long retainedBufferBytes,
                 Duration drainTimeout, Duration payloadTimeout) {
            this(workerThreads, maxRequestsInFlightPerConnection, DEFAULT_MAX_REPLY_BYTES_PER_CONNECTION, bufferBudgetBytes, retainedBufferBytes,
                    DEFAULT_MAX_CONNECTIONS, DEFAULT_HANDSHAKE_TIMEOUT, payloadTimeout, DEFAULT_REPLY_TIMEOUT, drainTimeout);
        }

        Settings(int workerThreads, int maxRequestsInFlightPerConnection, long bufferBudgetBytes, long retainedBufferBytes,
                 Duration drainTimeout) {
            this(workerThreads, maxRequestsInFlightPerConnection, bufferBudgetBytes, retainedBufferBytes, drainTimeout, Duration.ofSeconds(20));
        }

        public Settings {
            requireRange("worker threads", workerThreads, 1, 1024);
            requireRange("requests in flight per connection", maxRequestsInFlightPerConnection, 1, 1 << 16);
            requireRange("reply bytes per connection", maxReplyBytesPerConnection, NbdProtocol.MIN_BLOCK_BYTES, 1L << 40);
            requireRange("buffer budget bytes", bufferBudgetBytes, NbdProtocol.MAX_BLOCK_BYTES, 1L << 40);
            requireRange("retained buffer bytes", retainedBufferBytes, 0, 1L << 40);
            requireRange("connections", maxConnections, 1, MAX_CONNECTIONS_LIMIT);
            requireRange("connections per client address", maxConnectionsPerPeer, 1, MAX_CONNECTIONS_LIMIT);
            requireTimeout("handshake timeout", handshakeTimeout);
            requireTimeout("silent timeout", silentTimeout);
            requireTimeout("payload timeout", payloadTimeout);
            requireTimeout("reply timeout", replyTimeout);
            if (drainTimeout == null || drainTimeout.isNegative()) {
                throw new IllegalArgumentException("drain timeout " + drainTimeout + " must be 0 or more");
            }
        }

        /** These settings with another handshake timeout (1 ms to 1 h). */
        public Settings withHandshakeTimeout(Duration timeout) {
            return new Settings(workerThreads, maxRequestsInFlightPerConnection, maxReplyBytesPerConnection, bufferBudgetBytes,
                    retainedBufferBytes, maxConnections, maxConnectionsPerPeer, timeout, silentTimeout, payloadTimeout, replyTimeout,
                    drainTimeout);
        }

        /** These settings with another silent timeout (1 ms to 1 h): how long a new connection may send nothing. */
        public Settings withSilentTimeout(Duration timeout) {
            return new Settings(workerThreads, maxRequestsInFlightPerConnection, maxReplyBytesPerConnection, bufferBudgetBytes,
                    retainedBufferBytes, maxConnections, maxConnectionsPerPeer, handshakeTimeout, timeout, payloadTimeout, replyTimeout,
                    drainTimeout);
        }

        /** These settings with another reply timeout (1 ms to 1 h). */
        public Settings withReplyTimeout(Duration timeout) {
            return new Settings(workerThreads, maxRequestsInFlightPerConnection, maxReplyBytesPerConnection, bufferBudgetBytes,
                    retainedBufferBytes, maxConnections, maxConnectionsPerPeer, handshakeTimeout, silentTimeout, payloadTimeout, timeout,
                    drainTimeout);
        }

        /** These settings with another connection limit per listening socket (1 to {@value #MAX_CONNECTIONS_LIMIT}). */
        public Settings withMaxConnections(int connections) {
            return new Settings(workerThreads, maxRequestsInFlightPerConnection, maxReplyBytesPerConnection, bufferBudgetBytes,
                    retainedBufferBytes, connections, maxConnectionsPerPeer, handshakeTimeout, silentTimeout, payloadTimeout,
                    replyTimeout, drainTimeout);
        }

        /** These settings with another limit per TCP client address (1 to {@value #MAX_CONNECTIONS_LIMIT}). */
        public Settings withMaxConnectionsPerPeer(int connections) {
            return new Settings(workerThreads, maxRequestsInFlightPerConnection, maxReplyBytesPerConnection, bufferBudgetBytes,
                    retainedBufferBytes, maxConnections, connections, handshakeTimeout, silentTimeout, payloadTimeout, replyTimeout,
                    drainTimeout);
        }

        private static void requireRange(String what, long value, long min, long max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(what + " " + value + " is outside the allowed range " + min + " to " + max);
            }
        }

        private static void requireTimeout(String what, Duration timeout) {
            if (timeout == null || timeout.compareTo(Duration.ofMillis(1)) < 0 || timeout.compareTo(MAX_TIMEOUT) > 0) {
                throw new IllegalArgumentException(what + " " + (timeout == null ? "(none)" : timeout.toMillis() + " ms")
                        + " is outside the allowed range 1 ms to 1 h");
            }
        }
    }

    /**
     * Who may write over TCP; on a Unix socket, the client's user decides (see
     * {@link #start(List, NbdExports, Settings)}). Any local user can reach a loopback port, so
     * loopback is TCP like any other.
     */
    public enum TcpWrites {
        /**
         * Only a client whose certificate the server checked during NBD_OPT_STARTTLS
         * ({@link NbdTls#verifyPeer}); every other TCP client gets every export read-only
         * (NBD_FLAG_READ_ONLY, writes answered EPERM).
         */
        VERIFIED_CLIENTS,
        /** Any client that reaches the port (rewind serve --insecure). */
        ANY_CLIENT
    }

    /** Why a TCP client without a checked certificate gets every export read-only. */
    static final String TCP_READ_ONLY = "writes over TCP need a client certificate checked by rewind serve --tls-verify-peer "
            + "(or rewind serve --insecure); the Unix socket lets its owner write";

    /** One socket the server accepts on: TCP or a Unix domain socket (then {@code socketPath} is its file), its TLS and its budget. */
    private record Listener(ServerSocketChannel channel, String label, Path socketPath, int port, NbdTls tls, ConnectionBudget budget) {
    }

    private final List<Listener> listeners;
    private final NbdExports exports;
    private final Settings settings;
    private final TcpWrites tcpWrites;
    private final NbdBufferPool buffers;
    private final ThreadPoolExecutor workers;
    /** Every open connection and the budget of the listener it came through. */
    private final Map<NbdConnection, ConnectionBudget> connections = new ConcurrentHashMap<>();
    private final AtomicLong connectionIds = new AtomicLong();
    private final List<Thread> acceptors = new ArrayList<>();
    private final String port;
    private volatile boolean closing;
    private final java.util.concurrent.ScheduledExecutorService watchdog;

    private NbdServer(List<Listener> listeners, NbdExports exports, Settings settings, TcpWrites tcpWrites) throws IOException {
        this.listeners = listeners;
        this.tcpWrites = tcpWrites;
        this.exports = exports;
        this.settings = settings;
        this.port = String.join("+", listeners.stream().map(Listener::label).toList());
        this.buffers = new NbdBufferPool(settings.bufferBudgetBytes(), settings.retainedBufferBytes());
        this.workers = new ThreadPoolExecutor(settings.workerThreads(), settings.workerThreads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), namedDaemonThreads("rewind-nbd-worker-" + port + "-"));
        this.workers.allowCoreThreadTimeOut(true);
        for (Listener l : listeners) {
            Thread acceptor = new Thread(() -> acceptLoop(l), "rewind-nbd-acceptor-" + l.label());
            acceptor.setDaemon(true);
            acceptors.add(acceptor);
        }
        this.watchdog = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(namedDaemonThreads("rewind-nbd-watchdog-" + port + "-"));
        long shortest = Math.min(Math.min(settings.payloadTimeout().toMillis(), settings.silentTimeout().toMillis()),
                Math.min(settings.handshakeTimeout().toMillis(), settings.replyTimeout().toMillis()));
        long periodMillis = Math.max(10, Math.min(1000, shortest / 4));
        this.watchdog.scheduleWithFixedDelay(this::dropStalledClients, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Disconnects every client past a timeout: still negotiating after the handshake timeout,
     * sending one write's payload for longer than the payload timeout, or not taking any byte
     * of a reply for longer than the reply timeout.
     */
    private void dropStalledClients() {
        long now = System.nanoTime();
        for (Map.Entry<NbdConnection, ConnectionBudget> c : connections.entrySet()) {
            try {
                if (c.getKey().closeIfStalled(now, settings)) {
                    c.getValue().timedOut(c.getKey());
                }
            } catch (RuntimeException e) {
                LOG.warn("nbd server on {}: checking connection for stalls failed", port, e);
            }
        }
        for (Listener l : listeners) {
            l.budget().logIfDue(now);
        }
    }

    /**
     * Listens on {@code address} (e.g. 127.0.0.1:10809; port 0 picks a free port) and serves
     * {@code exports}, writable by {@code tcpWrites}.
     */
    public static NbdServer start(InetSocketAddress address, NbdExports exports, TcpWrites tcpWrites) throws IOException {
        return start(address, exports, Settings.DEFAULT, tcpWrites);
    }

    /** Like {@link #start(InetSocketAddress, NbdExports, TcpWrites)}, with {@code settings}. */
    public static NbdServer start(InetSocketAddress address, NbdExports exports, Settings settings, TcpWrites tcpWrites)
            throws IOException {
        return start(List.of(address), exports, settings, NbdTls.OFF, tcpWrites);
    }

    /**
     * Listens on every address, each a TCP {@link InetSocketAddress} or a
     * {@link UnixDomainSocketAddress}, and serves {@code exports} on all of them. A Unix socket
     * file left behind by a server that is gone is replaced (the caller holds the data dir's
     * lock); the new one gets mode 0600, or 0660 when its directory grants a group access
     * ({@link PrivateFiles#restrictSocket}), and is removed at {@link #close()}. On a Unix
     * socket, a client running as another user than the server's (root aside) gets every
     * export read-only: the socket's group may read the volumes, never write them. On TCP, only
     * a client whose certificate TLS checked may write ({@link TcpWrites#VERIFIED_CLIENTS}).
     */
    public static NbdServer start(List<? extends SocketAddress> addresses, NbdExports exports, Settings settings) throws IOException {
        return start(addresses, exports, settings, NbdTls.OFF, TcpWrites.VERIFIED_CLIENTS);
    }

    /**
     * Like {@link #start(List, NbdExports, Settings)}, with {@code tls} on the TCP listeners
     * (NBD_OPT_STARTTLS, see {@link NbdTls}), whose clients may write as {@code tcpWrites}
     * says; Unix socket listeners stay plain, protected by their file mode.
     */
    public static NbdServer start(List<? extends SocketAddress> addresses, NbdExports exports, Settings settings, NbdTls tls,
                                  TcpWrites tcpWrites) throws IOException {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("no address to listen on");
        }
        List<Listener> listeners = new ArrayList<>();
        try {
            for (SocketAddress address : addresses) {
                listeners.add(listen(address, tls, settings));
            }
            NbdServer server = new NbdServer(List.copyOf(listeners), exports, settings, tcpWrites);
            server.acceptors.forEach(Thread::start);
            LOG.debug("nbd server listening on {}", server.port);
            return server;
        } catch (IOException | RuntimeException e) {
            for (Listener l : listeners) {
                closeListener(l);
            }
            throw e;
        }
    }

    private static Listener listen(SocketAddress address, NbdTls tls, Settings settings) throws IOException {
        if (address instanceof UnixDomainSocketAddress unix) {
            Path path = unix.getPath();
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
                    && !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(path); // a stale socket of a server that is gone
            }
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                channel.bind(unix, 128);
                PrivateFiles.restrictSocket(path);
                String label = "unix-" + path.getFileName();
                return new Listener(channel, label, path, -1, NbdTls.OFF,
                        new ConnectionBudget(path.toString(), settings.maxConnections(), settings.maxConnections()));
            } catch (IOException | RuntimeException e) {
                channel.close();
                Files.deleteIfExists(path);
                throw e;
            }
        }
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address, 128);
            int port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            return new Listener(channel, String.valueOf(port), null, port, tls,
                    new ConnectionBudget(channel.getLocalAddress().toString(), settings.maxConnections(), settings.maxConnectionsPerPeer()));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void closeListener(Listener l) {
        try {
            l.channel().close();
        } catch (IOException e) {
            LOG.warn("nbd server on {}: closing the listening socket: {}", l.label(), e.toString());
        }
        if (l.socketPath() != null) {
            try {
                Files.deleteIfExists(l.socketPath());
            } catch (IOException e) {
                LOG.warn("nbd server: removing socket {}: {}", l.socketPath(), e.toString());
            }
        }
    }

    /** The TCP port the server listens on, or -1 when it listens on a Unix socket only. */
    public int port() {
        return listeners.stream().filter(l -> l.socketPath() == null).mapToInt(Listener::port).findFirst().orElse(-1);
    }

    /** The Unix socket the server listens on, if any. */
    public Optional<Path> socketPath() {
        return listeners.stream().map(Listener::socketPath).filter(java.util.Objects::nonNull).findFirst();
    }

    /** Connections in transmission on an export of set {@code setName}. */
    public int connectionCount(String setName) {
        return (int) connections.keySet().stream().filter(c -> c.isOnSet(setName)).count();
    }

    /**
     * A client in transmission: the export it reads (or writes), who it is (TCP address, or the
     * Unix socket's user), and whether the export is a point in the past ({@link NbdExport#isPast}).
     */
    public record Client(String exportName, String peer, boolean past) {
    }

    /** The clients in transmission on an export of set {@code setName}, by export name. */
    public List<Client> clients(String setName) {
        List<Client> clients = new ArrayList<>();
        for (NbdConnection c : connections.keySet()) {
            NbdExport e = c.exportInTransmission();
            if (e != null && e.setName().equals(setName)) {
                clients.add(new Client(e.name(), c.peer(), e.isPast()));
            }
        }
        clients.sort(java.util.Comparator.comparing(Client::exportName).thenComparing(Client::peer));
        return clients;
    }

    /**
     * Drops every connection on an export of set {@code setName}, the way {@link #close()}
     * does (requests already read finish and are answered, the export is flushed), and returns
     * once they are closed.
     */
    public void disconnect(String setName) {
        List<NbdConnection> onSet = connections.keySet().stream().filter(c -> c.isOnSet(setName)).toList();
        onSet.forEach(NbdConnection::stopReading);
        awaitFinished(onSet);
    }

    /** As {@link #disconnect}, for the connections on the set as it is now only: readers of its past stay. */
    public void disconnectLive(String setName) {
        List<NbdConnection> live = connections.keySet().stream().filter(c -> c.isOnLiveExportOf(setName)).toList();
        live.forEach(NbdConnection::stopReading);
        awaitFinished(live);
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
        listeners.forEach(NbdServer::closeListener);
        try {
            for (Thread acceptor : acceptors) {
                acceptor.join(settings.drainTimeout().toMillis() + 1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<NbdConnection> all = List.copyOf(connections.keySet());
        all.forEach(NbdConnection::stopReading);
        awaitFinished(all);
        for (Listener l : listeners) {
            l.budget().logPending(System.nanoTime());
        }
        workers.shutdown();
        try {
            if (!workers.awaitTermination(settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("nbd server on {}: workers still busy after {}", port, settings.drainTimeout());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.debug("nbd server on {} closed", port);
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

    private void acceptLoop(Listener listener) {
        while (!closing) {
            SocketChannel channel;
            try {
                channel = listener.channel().accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closing) {
                    return;
                }
                LOG.warn("nbd server on {}: accept failed: {}", port, e.toString());
                pause();
                continue;
            }
            try {
                if (closing) {
                    channel.close();
                    return;
                }
                String readOnlyBecause = null;
                if (listener.socketPath() == null) {
                    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    if (tcpWrites == TcpWrites.VERIFIED_CLIENTS) {
                        readOnlyBecause = TCP_READ_ONLY;
                    }
                } else if (!PeerCredentials.isOwnerOrRoot(channel, listener.socketPath())) {
                    readOnlyBecause = "another user than the server's on its Unix socket";
                }
                NbdConnection connection = new NbdConnection(this, connectionIds.incrementAndGet(), channel, settings, readOnlyBecause,
                        listener.socketPath() == null, listener.tls());
                ConnectionBudget.Admission admission = listener.budget().admit(connection, connection.peerAddress(), System.nanoTime());
                if (!admission.admitted()) {
                    closeQuietly(channel);
                    continue;
                }
                if (admission.evicted() != null) {
                    admission.evicted().evict();
                }
                connections.put(connection, listener.budget());
                try {
                    connection.start();
                } catch (RuntimeException | OutOfMemoryError e) {
                    connections.remove(connection);
                    listener.budget().release(connection);
                    throw e;
                }
            } catch (IOException | RuntimeException | OutOfMemoryError e) {
                LOG.warn("nbd server on {}: cannot serve a new connection: {}", port, e.toString());
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

    private static String remoteAddress(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
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
        ConnectionBudget budget = connections.remove(connection);
        if (budget != null) {
            budget.release(connection);
        }
    }

    /** Connections open now, in handshake or transmission. */
    int openConnections() {
        return connections.size();
    }
}
