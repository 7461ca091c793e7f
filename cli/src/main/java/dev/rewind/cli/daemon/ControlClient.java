package dev.rewind.cli.daemon;

import dev.rewind.volumeset.RewindException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The command line's side of the control API: while {@code rewind serve} runs for a data
 * dir, commands are sent to it (it holds the sets open) and its output is printed here.
 *
 * <p>One HTTP/1.1 exchange on the daemon's Unix socket {@code control.sock} ({@code POST /v1/run},
 * then the server closes), written and read here directly: the JDK's {@code HttpClient} starts a
 * selector thread and the TLS machinery even for plain HTTP, and a JSON library is not
 * needed for three fields ({@link ControlJson}); a forwarded command loads neither, nor the
 * catalog.
 *
 * <p>Deadlines: connecting must succeed within {@link #CONNECT_DEADLINE} and the first byte of
 * the answer (its status line, sent before the command runs) must arrive within
 * {@link #ANSWER_DEADLINE}; otherwise the command fails with one line saying the daemon does
 * not answer and what to do, instead of waiting for ever on a daemon that is stuck.
 */
public final class ControlClient {
    private static final int MAX_HEADER_BYTES = 64 << 10;
    /** How long connecting to the control socket may take. */
    static final Duration CONNECT_DEADLINE = Duration.ofSeconds(5);
    /** How long the daemon may take to start its answer (it does so before running the command). */
    static final Duration ANSWER_DEADLINE = Duration.ofSeconds(10);
    private static final ScheduledExecutorService DEADLINES = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rewind-control-client-deadline");
        t.setDaemon(true);
        return t;
    });
    private final DaemonFiles.Info info;
    private final String token;

    ControlClient(DaemonFiles.Info info, String token) {
        this.info = info;
        this.token = token;
    }

    /** The running daemon of {@code dataDir}, if any. */
    public static Optional<ControlClient> find(Path dataDir) throws IOException {
        Optional<DaemonFiles.Info> info = DaemonFiles.readLive(dataDir);
        if (info.isEmpty()) {
            return Optional.empty();
        }
        String token;
        try {
            token = DaemonFiles.readToken(dataDir);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new RewindException("rewind serve (pid " + info.get().pid() + ") runs for " + dataDir
                    + "; only its owner may send it commands (" + e.getFile() + " is the owner's)");
        }
        return Optional.of(new ControlClient(info.get(), token));
    }

    /**
     * Runs {@code args} in the daemon; prints what it prints as it prints it (the streamed
     * answer of {@link ControlServer}); returns its exit code.
     */
    public int forward(String[] args, PrintWriter out, PrintWriter err) throws IOException {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("args", args);
        request.put("cwd", Path.of("").toAbsolutePath().toString());
        request.put("terminal", System.console() != null);
        request.put("pid", ProcessHandle.current().pid());
        if (info.controlSocket() == null) {
            throw notAnswering("daemon.json names no control socket (a daemon of an older version?)");
        }
        SocketChannel connected = SocketChannel.open(StandardProtocolFamily.UNIX);
        AtomicBoolean late = new AtomicBoolean();
        try (Deadline d = closeAfter(connected, CONNECT_DEADLINE, late)) {
            connected.connect(UnixDomainSocketAddress.of(info.controlSocket()));
        } catch (IOException e) {
            connected.close();
            throw notAnswering(late.get() ? "it accepted no connection within " + CONNECT_DEADLINE.toSeconds() + " s" : e.getMessage());
        }
        try (SocketChannel socket = connected) {
            InputStream in;
            Head head;
            try (Deadline d = closeAfter(socket, ANSWER_DEADLINE, late)) {
                send(socket, "/v1/run", ControlJson.writeObject(request));
                in = new BufferedInputStream(Channels.newInputStream(socket));
                in.mark(1);
                if (in.read() < 0) {
                    throw new IOException("it closed the connection without an answer");
                }
                in.reset();
            } catch (IOException e) {
                throw notAnswering(late.get() ? "no answer within " + ANSWER_DEADLINE.toSeconds() + " s" : e.getMessage());
            }
            try {
                head = readHead(in);
            } catch (IOException e) {
                throw notAnswering(e.getMessage());
            }
            if (head.status() != 200) {
                throw new RewindException("rewind serve (pid " + info.pid() + ") refused the command: HTTP " + head.status()
                        + " " + readBody(in, head).strip());
            }
            if (!head.contentType().startsWith(ControlServer.STREAM_TYPE)) {
                return printWhole(readBody(in, head), out, err);
            }
            for (String line = readStreamLine(in); line != null; line = readStreamLine(in)) {
                Map<String, Object> piece = parse(line);
                if (piece.get("exit") instanceof Long exit) {
                    return Math.toIntExact(exit);
                }
                PrintWriter to = piece.containsKey("stderr") ? err : out;
                to.print(String.valueOf(piece.getOrDefault("stderr", piece.get("stdout"))));
                to.flush();
            }
            throw RewindException.withHint("rewind serve (pid " + info.pid() + ") stopped before the command ended",
                    "see its log, and check what the command did before running it again");
        }
    }

    private RewindException notAnswering(String why) {
        return RewindException.withHint("rewind serve (pid " + info.pid() + ") does not answer on its control socket "
                + info.controlSocket() + " (" + why + ")", "stop it or remove its daemon.json");
    }

    /** Closes a channel at a deadline unless closed first; {@code late} tells whether it fired. */
    private interface Deadline extends AutoCloseable {
        @Override
        void close();
    }

    private static Deadline closeAfter(SocketChannel channel, Duration after, AtomicBoolean late) {
        ScheduledFuture<?> f = DEADLINES.schedule(() -> {
            late.set(true);
            try {
                channel.close(); // wakes a thread blocked connecting or reading on it
            } catch (IOException ignored) {
                // closing is all that is wanted
            }
        }, after.toMillis(), TimeUnit.MILLISECONDS);
        return () -> f.cancel(false);
    }

    private Map<String, Object> parse(String json) throws IOException {
        try {
            return ControlJson.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw new IOException("rewind serve (pid " + info.pid() + ") sent a reply that is not JSON: " + e.getMessage(), e);
        }
    }

    /** The whole answer of a daemon that does not stream. */
    private int printWhole(String body, PrintWriter out, PrintWriter err) throws IOException {
        Map<String, Object> r = parse(body);
        out.print(String.valueOf(r.get("stdout")));
        out.flush();
        err.print(String.valueOf(r.get("stderr")));
        err.flush();
        return Math.toIntExact((Long) r.get("exit"));
    }

    record Response(int status, String body) {
    }

    private void send(SocketChannel socket, String path, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream os = Channels.newOutputStream(socket);
        String head = "POST " + path + " HTTP/1.1\r\n"
                + "Host: localhost\r\n"
                + "Authorization: Bearer " + token + "\r\n"
                + "Content-Type: application/json\r\n"
                + "Accept: " + ControlServer.STREAM_TYPE + ", application/json\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "Connection: close\r\n\r\n";
        os.write(head.getBytes(StandardCharsets.US_ASCII));
        os.write(body);
        os.flush();
    }

    /** One line of a streamed answer, without its end; null at the end of the stream. Lines may be long (a command's JSON). */
    private static String readStreamLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                return null; // a line cut short is the daemon gone as well
            }
            line.write(c);
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    /** The status line and headers of an HTTP/1.1 response. */
    record Head(int status, long contentLength, boolean chunked, String contentType) {
    }

    /** Reads an HTTP/1.1 response: status line, headers, then a Content-Length, chunked or read-to-close body. */
    static Response readResponse(InputStream in) throws IOException {
        Head head = readHead(in);
        return new Response(head.status(), readBody(in, head));
    }

    static Head readHead(InputStream in) throws IOException {
        String statusLine = readLine(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP response: " + statusLine);
        }
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP response: " + statusLine, e);
        }
        long contentLength = -1;
        boolean chunked = false;
        String contentType = "";
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (name.equals("content-length")) {
                contentLength = Long.parseLong(value);
            } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                chunked = true;
            } else if (name.equals("content-type")) {
                contentType = value.toLowerCase(Locale.ROOT);
            }
        }
        return new Head(status, contentLength, chunked, contentType);
    }

    static String readBody(InputStream in, Head head) throws IOException {
        boolean chunked = head.chunked();
        long contentLength = head.contentLength();
        byte[] body;
        if (chunked) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int size = Integer.parseInt(readLine(in).split(";", 2)[0].trim(), 16); size > 0;
                 size = Integer.parseInt(readLine(in).split(";", 2)[0].trim(), 16)) {
                b.write(readExactly(in, size));
                readLine(in);
            }
            body = b.toByteArray();
        } else if (contentLength >= 0) {
            body = readExactly(in, Math.toIntExact(contentLength));
        } else {
            body = in.readAllBytes();
        }
        return new String(body, StandardCharsets.UTF_8);
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("the control connection closed after " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    /** One CRLF- or LF-ended line (without the end), at most 64 KiB. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("the control connection closed in the middle of a line");
            }
            if (line.size() >= MAX_HEADER_BYTES) {
                throw new IOException("reply header longer than " + MAX_HEADER_BYTES + " bytes");
            }
            line.write(c);
        }
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
