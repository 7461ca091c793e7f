package dev.rewind.cli.nbd;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A minimal NBD client (fixed newstyle, NBD_OPT_GO, simple replies, one request at a time),
 * for what the real clients cannot do: ignore the read-only flag and send a write anyway,
 * stay connected without sending anything, write without ever flushing.
 */
final class RawNbdClient implements AutoCloseable {
    static final int NBD_FLAG_READ_ONLY = 1 << 1;
    static final int NBD_FLAG_CAN_MULTI_CONN = 1 << 8;
    static final int EPERM = 1;

    private static final long IHAVEOPT = 0x49484156454F5054L;
    private static final int CMD_READ = 0;
    private static final int CMD_WRITE = 1;
    private static final int CMD_DISC = 2;
    private static final int CMD_FLUSH = 3;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    final long sizeBytes;
    final int transmissionFlags;
    private long handle = 1;

    private RawNbdClient(Socket socket, DataInputStream in, DataOutputStream out, long sizeBytes, int transmissionFlags) {
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.sizeBytes = sizeBytes;
        this.transmissionFlags = transmissionFlags;
    }

    /** Connects and negotiates {@code export} with NBD_OPT_GO; fails with the server's message if it refuses. */
    static RawNbdClient open(int port, String export) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setSoTimeout(30_000);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            if (in.readLong() != 0x4e42444d41474943L || in.readLong() != IHAVEOPT) {
                throw new IOException("not an NBD server");
            }
            int handshakeFlags = in.readUnsignedShort();
            out.writeInt(1 | (handshakeFlags & 2)); // FIXED_NEWSTYLE, NO_ZEROES if offered
            byte[] name = export.getBytes(StandardCharsets.UTF_8);
            out.writeLong(IHAVEOPT);
            out.writeInt(7); // NBD_OPT_GO
            out.writeInt(6 + name.length);
            out.writeInt(name.length);
            out.write(name);
            out.writeShort(0);
            out.flush();
            long size = -1;
            int flags = 0;
            for (;;) {
                in.readLong();
                in.readInt();
                int type = in.readInt();
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                if (type == 1) { // NBD_REP_ACK
                    break;
                }
                if (type < 0) {
                    throw new IOException(String.format("NBD_OPT_GO %s refused (0x%08x): %s", export, type, new String(data, StandardCharsets.UTF_8)));
                }
                ByteBuffer b = ByteBuffer.wrap(data);
                if (type == 3 && b.getShort() == 0) { // NBD_REP_INFO, NBD_INFO_EXPORT
                    size = b.getLong();
                    flags = Short.toUnsignedInt(b.getShort());
                }
            }
            return new RawNbdClient(socket, in, out, size, flags);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    boolean isReadOnly() {
        return (transmissionFlags & NBD_FLAG_READ_ONLY) != 0;
    }

    /** NBD_CMD_WRITE; returns the error the server answers (0 for success). */
    int write(long offset, byte[] data) throws IOException {
        long h = request(CMD_WRITE, offset, data.length);
        out.write(data);
        out.flush();
        return reply(h);
    }

    int flush() throws IOException {
        long h = request(CMD_FLUSH, 0, 0);
        out.flush();
        return reply(h);
    }

    /** NBD_CMD_READ; fails on an error reply. */
    byte[] read(long offset, int length) throws IOException {
        long h = request(CMD_READ, offset, length);
        out.flush();
        int error = reply(h);
        if (error != 0) {
            throw new IOException("read of " + length + " bytes at " + offset + " failed with error " + error);
        }
        byte[] data = new byte[length];
        in.readFully(data);
        return data;
    }

    /** Whether the server closes the connection within {@code timeout} (without the client sending anything). */
    boolean closedByServerWithin(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private long request(int type, long offset, int length) throws IOException {
        long h = handle++;
        out.writeInt(0x25609513);
        out.writeShort(0);
        out.writeShort(type);
        out.writeLong(h);
        out.writeLong(offset);
        out.writeInt(length);
        return h;
    }

    private int reply(long expectedHandle) throws IOException {
        try {
            if (in.readInt() != 0x67446698) {
                throw new IOException("not a simple reply");
            }
            int error = in.readInt();
            if (in.readLong() != expectedHandle) {
                throw new IOException("reply for another handle");
            }
            return error;
        } catch (EOFException e) {
            throw new IOException("the server closed the connection", e);
        }
    }

    /** Sends NBD_CMD_DISC (if still connected) and closes. */
    @Override
    public void close() {
        try {
            request(CMD_DISC, 0, 0);
            out.flush();
        } catch (IOException e) {
            // already closed by the server
        }
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
