package dev.rewind.cli.daemon;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's local control API: one endpoint, {@code POST /v1/run}, that runs a
 * {@code rewind} command line against the daemon's open sets. It listens on the Unix socket
 * {@code control.sock} in the data dir (mode 0600: only the owner may connect), speaks plain
 * HTTP/1.1 (one request per connection, {@code curl --unix-socket} works), and every request
 * must also carry the token from the data dir's 0600 {@code daemon.token}. The command line
 * itself is run by the {@link CommandRunner} the CLI hands in.
 *
 * <p>Every request gets an answer: 401 without the token, 405/404 for another method or path,
 * 400 with a one-line {@code error} for a body that is not a JSON object with {@code args}
 * (strings) and {@code cwd}, and 200 with the command's exit code and output otherwise.
 *
 * <p><b>Output as it is printed.</b> A request with {@code Accept: application/x-ndjson} gets
 * the command's output while it runs, one JSON object a line: {@code {"stdout": TEXT}} or
 * {@code {"stderr": TEXT}} each time the command flushes a line (or redraws its progress), and
 * {@code {"exit": N}} last; a stream without that last line means the daemon stopped. So a
 * restore's progress and each step of a bisect reach the terminal that asked, as they happen.
 * Without that header, one JSON object {@code {"exit", "stdout", "stderr"}} when it is done.
 * {@code "terminal": true} in the body tells the daemon the client's stderr is a terminal,
 * where progress is drawn; {@code "pid"}, the client's process id, for the log.
 *
 * <p>The log records each restore, bisect and sandbox create, start, stop and drop run here: a
 * line when it starts and one with its exit code when it ends, each naming who asked (the
 * control socket's peer user and group from {@code SO_PEERCRED}, and the pid the client gives).
 *
 * <p><b>Idle connections.</b> Each connection has its own thread, so a command never waits for
 * another; a client must send its whole request within {@link #REQUEST_DEADLINE} or its
 * connection is closed, and at most {@link #MAX_UNREAD_CONNECTIONS} connections may be waiting
 * for their request at once (a new one closes the oldest). So connections that say nothing
 * hold no thread for long, and never keep a command from being served.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    /** The log of the commands run here that change or start something (see the class comment), at INFO even when the rest logs warnings only. */
    public static final String AUDIT_LOG = "dev.rewind.audit";
    private static final Logger AUDIT = LoggerFactory.getLogger(AUDIT_LOG);
    /** The control socket in the data dir. */
    public static final String SOCKET_FILE = "control.sock";
    private static final int MAX_HEADER_BYTES = 64 << 10;
    private static final int MAX_BODY_BYTES = 1 << 20;
    /** How long a client may take from connecting to having sent its whole request. */
    public static final java.time.Duration REQUEST_DEADLINE = java.time.Duration.ofSeconds(5);
    /** Connections whose request has not all arrived yet, at most; a new one closes the oldest. */
    static final int MAX_UNREAD_CONNECTIONS = 64;

    /** Runs one {@code rewind} command line for a client of the control API. */
    @FunctionalInterface
    public interface CommandRunner {
        /** Runs {@code call}; returns the exit code. */
        int run(Invocation call, PrintWriter out, PrintWriter err);
    }

    /**
     * One command line of a client: {@code args} with relative paths resolved against the
     * client's {@code workingDir}; {@code terminal}, whether the client's stderr is a terminal
     * (draw progress there); {@code clientGone}, true once a streaming client has closed its
     * connection (Ctrl-C), for a long command to stop at its next safe point.
     */
    public record Invocation(Path workingDir, String[] args, boolean terminal, BooleanSupplier clientGone) {
    }

    /** The media type of a streamed answer (see the class comment). */
    public static final String STREAM_TYPE = "application/x-ndjson";

    private static final ObjectMapper JSON = new ObjectMapper();
    private final ServerSocketChannel channel;
    private final Path socket;
    private final ExecutorService executor;
    private final Path dataDir;
    private final byte[] expected;
    private final CommandRunner commands;
    private final Thread acceptor;
    /** Connections whose request has not all arrived, oldest first. */
    private final java.util.LinkedHashSet<SocketChannel> unread = new java.util.LinkedHashSet<>();
    private final java.util.concurrent.ScheduledExecutorService deadlines;
    private volatile boolean closing;

    private ControlServer(ServerSocketChannel channel, Path socket, Path dataDir, String token, CommandRunner commands) {
        this.channel = channel;
        this.socket = socket;
        this.dataDir = dataDir;
        this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        this.commands = commands;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "rewind-control-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rewind-control-deadlines");
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::acceptLoop, "rewind-control-acceptor");
        this.acceptor.setDaemon(true);
    }

    /**
     * Listens on {@code dataDir/control.sock} and publishes daemon.json (with the NBD socket
     * and TCP address, null when none) and daemon.token.
     */
    public static ControlServer start(Path dataDir, CommandRunner commands, String nbdSocket, String nbdAddress) throws IOException {
        return start(dataDir, dataDir, commands, nbdSocket, nbdAddress);
    }

    /**
     * Listens on {@code socketDir/control.sock} and publishes, in {@code dataDir}, daemon.json
     * (with the control socket's path, the NBD socket and TCP address, null when none) and
     * daemon.token: the command line finds the sockets there, wherever they are.
     */
    public static ControlServer start(Path dataDir, Path socketDir, CommandRunner commands, String nbdSocket, String nbdAddress)
            throws IOException {
        String token = DaemonFiles.newToken();
        Path socket = socketDir.resolve(SOCKET_FILE).toAbsolutePath();
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(socket, LinkOption.NOFOLLOW_LINKS)
                && !Files.isDirectory(socket, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(socket); // left by a daemon that is gone (the caller holds the serve lock)
        }
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(socket), 16);
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            ControlServer server = new ControlServer(channel, socket, dataDir, token, commands);
            server.acceptor.start();
            DaemonFiles.write(dataDir, new DaemonFiles.Info(ProcessHandle.current().pid(), socket.toString(), nbdSocket, nbdAddress), token);
            return server;
        } catch (IOException | RuntimeException e) {
            channel.close();
            Files.deleteIfExists(socket);
            throw e;
        }
    }

    /** The control socket. */
    public Path socket() {
        return socket;
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel client;
            try {
                client = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closing) {
                    LOG.warn("control socket {}: accept failed: {}", socket, e.toString());
                }
                continue;
            }
            SocketChannel oldest = null;
            synchronized (unread) {
                if (unread.size() >= MAX_UNREAD_CONNECTIONS) {
                    oldest = unread.iterator().next();
                    unread.remove(oldest);
                }
                unread.add(client);
            }
            if (oldest != null) {
                LOG.debug("control socket {}: {} connections have not sent their request; closing the oldest", socket,
                        MAX_UNREAD_CONNECTIONS);
                closeQuietly(oldest);
            }
            try {
                java.util.concurrent.ScheduledFuture<?> deadline = deadlines.schedule(() -> {
                    if (requestRead(client)) {
                        LOG.debug("control socket {}: no whole request within {}; closing the connection", socket, REQUEST_DEADLINE);
                        closeQuietly(client);
                    }
                }, REQUEST_DEADLINE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                executor.execute(() -> serve(client, deadline));
            } catch (RejectedExecutionException e) {
                requestRead(client);
                closeQuietly(client);
            }
        }
    }

    /** Marks {@code client}'s request as read; false if the deadline or a newer connection closed it first. */
    private boolean requestRead(SocketChannel client) {
        synchronized (unread) {
            return unread.remove(client);
        }
    }

    private void serve(SocketChannel client, java.util.concurrent.Future<?> deadline) {
        try (client) {
            InputStream in = new BufferedInputStream(Channels.newInputStream(client));
            OutputStream out = Channels.newOutputStream(client);
            Reply reply;
            try {
                Object r = handle(in, dev.rewind.capture.nbd.PeerCredentials.describe(client));
                if (!requestRead(client)) {
                    return; // closed at its deadline, or to make room
                }
                deadline.cancel(false);
                if (r instanceof Request request && request.stream()) {
                    stream(request, client, out);
                    return;
                }
                reply = r instanceof Request request ? runBuffered(request) : (Reply) r;
            } catch (IOException e) {
                if (!requestRead(client)) {
                    return; // closed at its deadline, or to make room: nobody to answer
                }
                deadline.cancel(false);
                reply = Reply.error(400, "malformed request: " + e.getMessage());
            } catch (RuntimeException e) {
                LOG.warn("control request failed", e);
                reply = Reply.error(500, String.valueOf(e.getMessage()));
            }
            byte[] body = reply.json().getBytes(StandardCharsets.UTF_8);
            String head = "HTTP/1.1 " + reply.status() + " " + reason(reply.status()) + "\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        } catch (IOException e) {
            LOG.debug("control connection: {}", e.toString());
        }
    }

    /**
     * A valid {@code /v1/run}: what to run, where, how the client wants the answer, and who
     * asked ({@code peer}: the control socket's {@code SO_PEERCRED} user; {@code pid}: the
     * process id the client gives, or -1).
     */
    private record Request(String[] args, Path cwd, boolean terminal, boolean stream, String peer, long pid) {
    }

    /** The commands whose every run the daemon's log records, with who asked and how it ended. */
    private static final java.util.Set<String> AUDITED = java.util.Set.of("restore", "bisect", "sandbox start", "sandbox stop",
            "sandbox create", "sandbox drop");

    /**
     * The command of {@code args} ({@code restore}, {@code sandbox start}, ...) when it is one
     * the log records, else null: the words before the first argument that is not an option,
     * skipping the global {@code --data DIR} and {@code --json}.
     */
    static String auditedCommand(String[] args) {
        StringBuilder words = new StringBuilder();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--data")) {
                i++;
            } else if (!a.startsWith("-")) {
                words.append(words.length() == 0 ? "" : " ").append(a);
                if (AUDITED.contains(words.toString())) {
                    return words.toString();
                }
                if (!a.equals("sandbox")) {
                    return null;
                }
            }
        }
        return null;
    }

    /** Runs {@code r} through the runner; a command the log records gets a line when it starts and one when it ends. */
    private int run(Request r, Invocation call, PrintWriter out, PrintWriter err) {
        String audited = auditedCommand(r.args());
        if (audited == null) {
            return commands.run(call, out, err);
        }
        String who = r.peer() + (r.pid() > 0 ? ", pid " + r.pid() + " (as the client gives it)" : "");
        String line = "rewind " + String.join(" ", r.args());
        AUDIT.info("control: {} started, asked by {}", line, who);
        long start = System.nanoTime();
        int exit = 70;
        try {
            exit = commands.run(call, out, err);
            return exit;
        } finally {
            AUDIT.info("control: {} ended with exit {} after {} ms, asked by {}", line, exit, (System.nanoTime() - start) / 1_000_000, who);
        }
    }

    private Reply runBuffered(Request r) throws JsonProcessingException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = run(r, new Invocation(r.cwd(), r.args(), r.terminal(), () -> false), new PrintWriter(out, true),
                new PrintWriter(err, true));
        return new Reply(200, JSON.writeValueAsString(Map.of("exit", exit, "stdout", out.toString(), "stderr", err.toString())));
    }

    /**
     * Runs {@code r}, sending its output as it is flushed, then its exit code (see the class
     * comment). A thread waits on the connection meanwhile: the client sends nothing after its
     * request, so the end of its input means it has gone (Ctrl-C), which the command is told.
     */
    private void stream(Request r, SocketChannel client, OutputStream socket) throws IOException {
        socket.write(("HTTP/1.1 200 OK\r\nContent-Type: " + STREAM_TYPE + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        socket.flush();
        AtomicBoolean gone = new AtomicBoolean();
        Thread watcher = new Thread(() -> {
            ByteBuffer b = ByteBuffer.allocate(256);
            try {
                while (client.read(b.clear()) >= 0) {
                    // a client says nothing more after its request; whatever it sends is ignored
                }
            } catch (IOException e) {
                // closed under us: the command has ended, or the connection broke
            }
            gone.set(true);
        }, "rewind-control-client-watch");
        watcher.setDaemon(true);
        watcher.start();
        StreamedText out = new StreamedText("stdout", socket);
        StreamedText err = new StreamedText("stderr", socket);
        int exit;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            try {
                exit = run(r, new Invocation(r.cwd(), r.args(), r.terminal(), gone::get), o, e);
            } catch (RuntimeException ex) {
                LOG.warn("control request failed", ex);
                e.println("rewind: internal error in rewind serve: " + ex + " (its log has the details)");
                exit = 70;
            }
        }
        if (gone.get()) {
            LOG.warn("rewind {}: ended with exit {} after its client had gone", String.join(" ", r.args()), exit);
        }
        StreamedText.send(socket, Map.of("exit", exit));
    }

    /**
     * What a command prints to one of its streams, sent as one NDJSON line per flush. The
     * command's threads may print to stdout and stderr at once: lines are written whole, under
     * the socket's lock. A client that went away makes the write fail; {@link PrintWriter}
     * keeps that to itself and the command runs to its end.
     */
    private static final class StreamedText extends java.io.Writer {
        private final String field;
        private final OutputStream socket;
        private final StringBuilder pending = new StringBuilder();

        StreamedText(String field, OutputStream socket) {
            this.field = field;
            this.socket = socket;
        }

        static void send(OutputStream socket, Map<String, Object> line) throws IOException {
            byte[] bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
            synchronized (socket) {
                socket.write(bytes);
                socket.flush();
            }
        }

        @Override
        public synchronized void write(char[] chars, int offset, int length) {
            pending.append(chars, offset, length);
        }

        @Override
        public synchronized void flush() throws IOException {
            if (pending.length() > 0) {
                String text = pending.toString();
                pending.setLength(0);
                send(socket, Map.of(field, text));
            }
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    private record Reply(int status, String json) {
        static Reply error(int status, String message) {
            try {
                return new Reply(status, JSON.writeValueAsString(Map.of("error", message)));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Reads one request: the {@link Request} to run, or the {@link Reply} saying what is wrong with it. */
    private Object handle(InputStream in, String peer) throws IOException {
        String requestLine = ControlClient.readLine(in);
        String[] parts = requestLine.split(" ", 3);
        if (parts.length != 3 || !parts[2].startsWith("HTTP/")) {
            throw new IOException("not an HTTP request line: '" + abbreviate(requestLine) + "'");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        int headerBytes = requestLine.length();
        for (String line = ControlClient.readLine(in); !line.isEmpty(); line = ControlClient.readLine(in)) {
            headerBytes += line.length();
            if (headerBytes > MAX_HEADER_BYTES) {
                throw new IOException("headers longer than " + MAX_HEADER_BYTES + " bytes");
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
        }
        String auth = headers.get("authorization");
        if (auth == null || !MessageDigest.isEqual(expected, auth.getBytes(StandardCharsets.UTF_8))) {
            return Reply.error(401, "missing or wrong token");
        }
        if (!"/v1/run".equals(parts[1])) {
            return Reply.error(404, "no endpoint " + abbreviate(parts[1]) + "; the control API has POST /v1/run");
        }
        if (!"POST".equals(parts[0])) {
            return Reply.error(405, "POST only");
        }
        long length;
        try {
            length = Long.parseLong(headers.getOrDefault("content-length", "-1"));
        } catch (NumberFormatException e) {
            length = -1;
        }
        if (length < 0 || length > MAX_BODY_BYTES) {
            return Reply.error(400, "the request needs a Content-Length of at most " + MAX_BODY_BYTES + " bytes");
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length != length) {
            throw new IOException("the body ended after " + body.length + " of " + length + " bytes");
        }
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            return Reply.error(400, "the body is not JSON; send {\"args\": [...], \"cwd\": \"/dir\"}");
        }
        if (json == null || !json.isObject() || !json.path("args").isArray() || !json.path("cwd").isTextual()) {
            return Reply.error(400, "the body needs \"args\" (an array of strings) and \"cwd\" (the client's directory)");
        }
        String[] args = new String[json.get("args").size()];
        for (int i = 0; i < args.length; i++) {
            JsonNode a = json.get("args").get(i);
            if (!a.isTextual()) {
                return Reply.error(400, "\"args\" must hold strings only");
            }
            args[i] = a.asText();
        }
        Path cwd = Path.of(json.get("cwd").asText());
        if (!cwd.isAbsolute()) {
            return Reply.error(400, "\"cwd\" must be an absolute path");
        }
        if (json.has("terminal") && !json.get("terminal").isBoolean()) {
            return Reply.error(400, "\"terminal\" must be true or false");
        }
        if (json.has("pid") && !json.get("pid").canConvertToLong()) {
            return Reply.error(400, "\"pid\" must be a whole number");
        }
        boolean stream = headers.getOrDefault("accept", "").toLowerCase(Locale.ROOT).contains(STREAM_TYPE);
        return new Request(args, cwd, json.path("terminal").asBoolean(false), stream, peer, json.path("pid").asLong(-1));
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            default -> "Internal Server Error";
        };
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing to tell the client
        }
    }

    @Override
    public void close() {
        closing = true;
        DaemonFiles.remove(dataDir);
        try {
            channel.close();
        } catch (IOException e) {
            LOG.warn("control socket {}: close: {}", socket, e.toString());
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
        deadlines.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.warn("control socket {}: remove: {}", socket, e.toString());
        }
    }
}
