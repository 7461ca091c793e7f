package dev.rewind.testfixtures.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The one NBD client of the tests: a small blocking client over a raw socket in which every
 * byte it sends is spelled out, with the production protocol constants of
 * {@link dev.rewind.capture.nbd.NbdProtocol}. Three ways in:
 * <ul>
 * <li>{@link #open(int, String)}: handshake and NBD_OPT_GO done, simple replies, ready for
 *     {@link #read}, {@link #write(long, byte[])}, {@link #flush()}, ...; {@link #close()} sends
 *     NBD_CMD_DISC first, as a well-behaved client does;</li>
 * <li>{@link #connect(int)} / {@link #greeted(int)}: the handshake step by step (options
 *     including NBD_OPT_LIST, NBD_OPT_INFO, NBD_OPT_GO, NBD_OPT_STRUCTURED_REPLY and the meta
 *     context options), then every command with simple or structured replies;</li>
 * <li>{@link #raw(int, Duration)}: only the socket, for fuzzing and malformed input: the test
 *     writes any bytes (built with {@link NbdWire}) through {@link #out} or {@link #trySend}
 *     and reads through {@link #in}; {@link #halfClose()}, {@link #reset()} and
 *     {@link #readToEnd()} end a connection the ways a broken client would.</li>
 * </ul>
 * Replies are checked (magics, handles) with JUnit assertions; what the server answered is
 * returned as records.
 */
public final class NbdTestClient implements AutoCloseable {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

    public final Socket socket;
    public final DataInputStream in;
    public final DataOutputStream out;
    /** The handshake flags of the greeting; -1 for a {@link #raw} connection, which does not read it. */
    public final int handshakeFlags;
    private long sizeBytes = -1;
    private int transmissionFlags;
    private boolean disconnectOnClose;

    private NbdTestClient(Socket socket, int handshakeFlags) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
        this.handshakeFlags = handshakeFlags;
    }

    /**
     * Sends NBD_OPT_STARTTLS, which must be acknowledged, runs the TLS handshake with
     * {@code context} (server name 127.0.0.1 checked against its certificate) and returns the
     * client to go on with: every byte after goes through TLS. Closing it closes this one's socket.
     */
    public NbdTestClient startTls(javax.net.ssl.SSLContext context) throws IOException {
        List<OptionReply> replies = option(OPT_STARTTLS, new byte[0]);
        OptionReply last = replies.get(replies.size() - 1);
        assertEquals(REP_ACK, last.type(), () -> "NBD_OPT_STARTTLS refused: " + last.text());
        return overTls(context);
    }

    /** The TLS handshake right now (after the server acknowledged NBD_OPT_STARTTLS); see {@link #startTls}. */
    public NbdTestClient overTls(javax.net.ssl.SSLContext context) throws IOException {
        javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket(socket, "127.0.0.1", socket.getPort(), true);
        javax.net.ssl.SSLParameters p = tls.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        tls.setSSLParameters(p);
        tls.setUseClientMode(true);
        tls.startHandshake();
        NbdTestClient c = new NbdTestClient(tls, handshakeFlags);
        c.sizeBytes = sizeBytes;
        c.transmissionFlags = transmissionFlags;
        c.disconnectOnClose = disconnectOnClose;
        return c;
    }

    private NbdTestClient(Socket socket, boolean readGreeting) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
        if (readGreeting) {
            assertEquals(NBDMAGIC, in.readLong(), "NBDMAGIC");
            assertEquals(IHAVEOPT, in.readLong(), "IHAVEOPT");
            this.handshakeFlags = in.readUnsignedShort();
        } else {
            this.handshakeFlags = -1;
        }
    }

    private static Socket socket(int port, Duration timeout) throws IOException {
        return socket(null, port, timeout);
    }

    private static Socket socket(java.net.InetAddress from, int port, Duration timeout) throws IOException {
        Socket socket = new Socket();
        try {
            if (from != null) {
                socket.bind(new InetSocketAddress(from, 0));
            }
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) timeout.toMillis());
            socket.connect(new InetSocketAddress("127.0.0.1", port), (int) timeout.toMillis());
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Connects to 127.0.0.1:{@code port} and reads nothing: the test speaks the protocol itself. */
    public static NbdTestClient raw(int port, Duration timeout) throws IOException {
        return new NbdTestClient(socket(port, timeout), false);
    }

    /** Connects and reads the greeting, without answering it. */
    public static NbdTestClient greeted(int port) throws IOException {
        Socket socket = socket(port, DEFAULT_TIMEOUT);
        try {
            return new NbdTestClient(socket, true);
        } catch (IOException | RuntimeException | Error e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Like {@link #open(int, String)}, from the local address {@code from} (another loopback
     * address such as 127.0.0.2 stands for another client host).
     */
    public static NbdTestClient openFrom(java.net.InetAddress from, int port, String export) throws IOException {
        Socket socket = socket(from, port, DEFAULT_TIMEOUT);
        NbdTestClient c;
        try {
            c = new NbdTestClient(socket, true);
            c.out.writeInt(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
            c.out.flush();
        } catch (IOException | RuntimeException | Error e) {
            socket.close();
            throw e;
        }
        return c.goOrClose(export);
    }

    /** Connects and sends {@code clientFlags}. */
    public static NbdTestClient connect(int port, int clientFlags) throws IOException {
        NbdTestClient c = greeted(port);
        c.out.writeInt(clientFlags);
        c.out.flush();
        return c;
    }

    /** Connects with fixed newstyle and no zeroes. */
    public static NbdTestClient connect(int port) throws IOException {
        return connect(port, FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
    }

    /**
     * Connects, negotiates {@code export} with NBD_OPT_GO (failing with the server's message if
     * it refuses) and is ready for commands with simple replies; {@link #close()} sends
     * NBD_CMD_DISC before closing.
     */
    public static NbdTestClient open(int port, String export) throws IOException {
        return connect(port).goOrClose(export);
    }

    /** Like {@link #open(int, String)}, through TLS: NBD_OPT_STARTTLS first, then NBD_OPT_GO. */
    public static NbdTestClient openTls(int port, String export, javax.net.ssl.SSLContext context) throws IOException {
        NbdTestClient plain = connect(port);
        NbdTestClient tls;
        try {
            tls = plain.startTls(context);
        } catch (IOException | RuntimeException | Error e) {
            plain.close();
            throw e;
        }
        return tls.goOrClose(export); // closing the TLS socket closes the one under it
    }

    /** NBD_OPT_GO for {@code export} on this connection, ready for commands; the connection is closed if that fails. */
    private NbdTestClient goOrClose(String export) throws IOException {
        try {
            go(export);
            disconnectOnClose = true;
            return this;
        } catch (IOException | RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    // ---- options ----

    /** One option reply: the option it answers, its type, and its data. */
    public record OptionReply(int option, int type, byte[] data) {
        public ByteBuffer buffer() {
            return ByteBuffer.wrap(data);
        }

        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }

        /** NBD_REP_ACK or an error: no more replies follow for this option. */
        public boolean isFinal() {
            return type == REP_ACK || type < 0;
        }
    }

    /** What NBD_INFO_EXPORT said in answer to NBD_OPT_GO or NBD_OPT_INFO, and all the replies. */
    public record ExportInfo(long sizeBytes, int flags, List<OptionReply> replies) {
        public boolean has(int flag) {
            return (flags & flag) != 0;
        }
    }

    public void sendOption(int option, byte[] data) throws IOException {
        out.write(NbdWire.option(option, data));
        out.flush();
    }

    public OptionReply readOptionReply() throws IOException {
        assertEquals(OPTION_REPLY_MAGIC, in.readLong(), "option reply magic");
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    /** Sends an option and reads its replies up to the final one (ACK or an error). */
    public List<OptionReply> option(int option, byte[] data) throws IOException {
        sendOption(option, data);
        List<OptionReply> replies = new ArrayList<>();
        OptionReply r;
        do {
            r = readOptionReply();
            assertEquals(option, r.option(), "reply is for the option sent");
            replies.add(r);
        } while (!r.isFinal());
        return replies;
    }

    /** NBD_OPT_GO, which must succeed; returns what NBD_INFO_EXPORT said. The connection is then in transmission. */
    public ExportInfo go(String exportName, int... infoRequests) throws IOException {
        ExportInfo info = info(OPT_GO, exportName, infoRequests);
        sizeBytes = info.sizeBytes();
        transmissionFlags = info.flags();
        return info;
    }

    /** NBD_OPT_INFO or NBD_OPT_GO ({@code option}), which must succeed; returns what NBD_INFO_EXPORT said. */
    public ExportInfo info(int option, String exportName, int... infoRequests) throws IOException {
        List<OptionReply> replies = option(option, NbdWire.infoData(exportName, infoRequests));
        OptionReply last = replies.get(replies.size() - 1);
        assertEquals(REP_ACK, last.type(), () -> "GO/INFO of " + exportName + " refused: " + last.text());
        for (OptionReply r : replies) {
            if (r.type() == REP_INFO && r.buffer().getShort() == INFO_EXPORT) {
                ByteBuffer b = r.buffer();
                b.getShort();
                return new ExportInfo(b.getLong(), Short.toUnsignedInt(b.getShort()), replies);
            }
        }
        throw new AssertionError("no NBD_INFO_EXPORT in " + replies);
    }

    /** NBD_OPT_LIST: the names of every export the server lists. */
    public List<String> list() throws IOException {
        List<OptionReply> replies = option(OPT_LIST, new byte[0]);
        assertEquals(REP_ACK, replies.get(replies.size() - 1).type(), "NBD_OPT_LIST ends with NBD_REP_ACK");
        List<String> names = new ArrayList<>();
        for (OptionReply r : replies) {
            if (r.type() == REP_SERVER) {
                ByteBuffer b = r.buffer();
                byte[] name = new byte[b.getInt()];
                b.get(name);
                names.add(new String(name, StandardCharsets.UTF_8));
            }
        }
        return names;
    }

    /** NBD_OPT_STRUCTURED_REPLY, which must be acknowledged. */
    public void structuredReplies() throws IOException {
        assertEquals(REP_ACK, option(OPT_STRUCTURED_REPLY, new byte[0]).get(0).type());
    }

    /** NBD_OPT_SET_META_CONTEXT for {@code exportName}; returns the replies (NBD_REP_META_CONTEXT with the ids, then the final one). */
    public List<OptionReply> setMetaContext(String exportName, String... queries) throws IOException {
        return option(OPT_SET_META_CONTEXT, NbdWire.metaContextData(exportName, queries));
    }

    /** NBD_OPT_LIST_META_CONTEXT for {@code exportName}. */
    public List<OptionReply> listMetaContext(String exportName, String... queries) throws IOException {
        return option(OPT_LIST_META_CONTEXT, NbdWire.metaContextData(exportName, queries));
    }

    /** The size of the export NBD_OPT_GO selected; -1 before. */
    public long sizeBytes() {
        return sizeBytes;
    }

    /** The transmission flags of the export NBD_OPT_GO selected. */
    public int transmissionFlags() {
        return transmissionFlags;
    }

    public boolean isReadOnly() {
        return (transmissionFlags & FLAG_READ_ONLY) != 0;
    }

    // ---- transmission ----

    public void request(int flags, int type, long handle, long offsetBytes, long lengthBytes) throws IOException {
        out.write(NbdWire.request(flags, type, handle, offsetBytes, lengthBytes));
        out.flush();
    }

    public void writeRequest(int flags, long handle, long offsetBytes, byte[] payload) throws IOException {
        out.write(NbdWire.write(flags, handle, offsetBytes, payload));
        out.flush();
    }

    /** A simple reply: its error (0 for success) and handle. */
    public record SimpleReply(int error, long handle) {
    }

    public SimpleReply readSimpleReply() throws IOException {
        assertEquals(SIMPLE_REPLY_MAGIC, in.readInt(), "simple reply magic");
        return new SimpleReply(in.readInt(), in.readLong());
    }

    /** One structured reply chunk. */
    public record Chunk(int flags, int type, long handle, byte[] payload) {
        public ByteBuffer buffer() {
            return ByteBuffer.wrap(payload);
        }

        public boolean isDone() {
            return (flags & REPLY_FLAG_DONE) != 0;
        }

        /** The error of an NBD_REPLY_TYPE_ERROR chunk. */
        public int error() {
            assertEquals(REPLY_TYPE_ERROR, type, "an error chunk");
            return buffer().getInt();
        }

        public String errorMessage() {
            ByteBuffer b = buffer();
            b.getInt();
            byte[] text = new byte[b.getShort()];
            b.get(text);
            return new String(text, StandardCharsets.UTF_8);
        }
    }

    public Chunk readChunk() throws IOException {
        assertEquals(STRUCTURED_REPLY_MAGIC, in.readInt(), "structured reply magic");
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long handle = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        return new Chunk(flags, type, handle, payload);
    }

    /** Reads structured reply chunks for {@code handle} up to the one flagged done. */
    public List<Chunk> readChunks(long handle) throws IOException {
        List<Chunk> chunks = new ArrayList<>();
        Chunk c;
        do {
            c = readChunk();
            assertEquals(handle, c.handle(), "chunk is for the request sent");
            chunks.add(c);
        } while (!c.isDone());
        return chunks;
    }

    /** A command without payload, after NBD_OPT_STRUCTURED_REPLY: sends it and returns its chunks. */
    public List<Chunk> structured(int flags, int type, long offsetBytes, long lengthBytes) throws IOException {
        long handle = System.nanoTime();
        request(flags, type, handle, offsetBytes, lengthBytes);
        return readChunks(handle);
    }

    /** NBD_CMD_BLOCK_STATUS (needs structured replies and a selected meta context); returns its chunks. */
    public List<Chunk> blockStatus(int flags, long offsetBytes, long lengthBytes) throws IOException {
        return structured(flags, CMD_BLOCK_STATUS, offsetBytes, lengthBytes);
    }

    /** A command without payload, answered by a simple reply; returns its error. */
    public int simple(int flags, int type, long offsetBytes, long lengthBytes) throws IOException {
        long handle = System.nanoTime();
        request(flags, type, handle, offsetBytes, lengthBytes);
        SimpleReply r = readSimpleReply();
        assertEquals(handle, r.handle());
        return r.error();
    }

    /** A write answered by a simple reply; returns its error. */
    public int write(int flags, long offsetBytes, byte[] payload) throws IOException {
        long handle = System.nanoTime();
        writeRequest(flags, handle, offsetBytes, payload);
        SimpleReply r = readSimpleReply();
        assertEquals(handle, r.handle());
        return r.error();
    }

    /** NBD_CMD_WRITE without flags; returns the error the server answers (0 for success). */
    public int write(long offsetBytes, byte[] payload) throws IOException {
        return write(0, offsetBytes, payload);
    }

    /** NBD_CMD_FLUSH; returns its error. */
    public int flush() throws IOException {
        return simple(0, CMD_FLUSH, 0, 0);
    }

    /** NBD_CMD_TRIM; returns its error. */
    public int trim(int flags, long offsetBytes, long lengthBytes) throws IOException {
        return simple(flags, CMD_TRIM, offsetBytes, lengthBytes);
    }

    /** NBD_CMD_WRITE_ZEROES; returns its error. */
    public int writeZeroes(int flags, long offsetBytes, long lengthBytes) throws IOException {
        return simple(flags, CMD_WRITE_ZEROES, offsetBytes, lengthBytes);
    }

    /** A successful read with simple replies (an error reply fails the test). */
    public byte[] read(long offsetBytes, int lengthBytes) throws IOException {
        long handle = System.nanoTime();
        request(0, CMD_READ, handle, offsetBytes, lengthBytes);
        SimpleReply r = readSimpleReply();
        assertEquals(new SimpleReply(0, handle), r, () -> "NBD_CMD_READ of " + lengthBytes + " bytes at " + offsetBytes);
        byte[] data = new byte[lengthBytes];
        in.readFully(data);
        return data;
    }

    /** Sends NBD_CMD_DISC. */
    public void disconnect() throws IOException {
        request(0, CMD_DISC, 0, 0, 0);
    }

    // ---- raw bytes and how a connection ends ----

    /** Writes and flushes; false if the server has already closed the connection. */
    public boolean trySend(byte[]... parts) {
        try {
            for (byte[] p : parts) {
                out.write(p);
            }
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Flushes and shuts the sending side down: the server reads the end of the stream. */
    public void halfClose() {
        try {
            out.flush();
            socket.shutdownOutput();
        } catch (IOException e) {
            // the server closed first: fine, the caller expects the end anyway
        }
    }

    /** Closes with a TCP reset: the server sees the connection vanish. */
    public void reset() {
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException e) {
            // already gone
        }
        closeSocket();
    }

    /**
     * Reads until the server closes; returns what it sent first. Fails if the server neither
     * sends nor closes within the socket timeout, or keeps sending past 1 MiB.
     */
    public byte[] readToEnd() {
        byte[] buf = new byte[1 << 16];
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            for (;;) {
                int n = in.read(buf);
                if (n < 0) {
                    return got.toByteArray();
                }
                got.write(buf, 0, n);
                if (got.size() > 1 << 20) {
                    throw new AssertionError("server keeps sending (" + got.size() + " bytes) where it should close the connection");
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("server neither answered nor closed the connection within " + soTimeoutMillis() + " ms; it sent "
                    + got.size() + " bytes first");
        } catch (IOException e) {
            return got.toByteArray(); // reset by the server: closed
        }
    }

    private int soTimeoutMillis() {
        try {
            return socket.getSoTimeout();
        } catch (SocketException e) {
            return -1;
        }
    }

    /** True when the server has closed the connection (nothing more to read). */
    public boolean isClosedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (EOFException | SocketException e) {
            return true;
        }
    }

    /** Whether the server closes the connection within {@code timeout} (without the client sending anything). */
    public boolean closedByServerWithin(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /** Closes the socket; a client made by {@link #open} sends NBD_CMD_DISC first (if still connected). */
    @Override
    public void close() {
        if (disconnectOnClose) {
            try {
                disconnect();
            } catch (IOException e) {
                // already closed by the server
            }
        }
        closeSocket();
    }

    private void closeSocket() {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
