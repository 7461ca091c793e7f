package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A small blocking NBD client over a raw socket, for tests: every byte it sends is spelled out. */
final class NbdTestClient implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    final int handshakeFlags;

    private NbdTestClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(20_000);
        socket.setTcpNoDelay(true);
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
        assertEquals(NBDMAGIC, in.readLong(), "NBDMAGIC");
        assertEquals(IHAVEOPT, in.readLong(), "IHAVEOPT");
        this.handshakeFlags = in.readUnsignedShort();
    }

    /** Connects and reads the greeting, without answering it. */
    static NbdTestClient greeted(int port) throws IOException {
        return new NbdTestClient(new Socket("127.0.0.1", port));
    }

    /** Connects and sends {@code clientFlags}. */
    static NbdTestClient connect(int port, int clientFlags) throws IOException {
        NbdTestClient c = greeted(port);
        c.out.writeInt(clientFlags);
        c.out.flush();
        return c;
    }

    static NbdTestClient connect(int port) throws IOException {
        return connect(port, FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
    }

    // ---- options ----

    record OptionReply(int option, int type, byte[] data) {
        ByteBuffer buffer() {
            return ByteBuffer.wrap(data);
        }

        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }

        boolean isFinal() {
            return type == REP_ACK || type < 0;
        }
    }

    record ExportInfo(long sizeBytes, int flags, List<OptionReply> replies) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.write(NbdWire.option(option, data));
        out.flush();
    }

    OptionReply readOptionReply() throws IOException {
        assertEquals(OPTION_REPLY_MAGIC, in.readLong(), "option reply magic");
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    /** Sends an option and reads its replies up to the final one (ACK or an error). */
    List<OptionReply> option(int option, byte[] data) throws IOException {
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

    /** NBD_OPT_GO, which must succeed; returns what NBD_INFO_EXPORT said. */
    ExportInfo go(String exportName, int... infoRequests) throws IOException {
        return info(OPT_GO, exportName, infoRequests);
    }

    ExportInfo info(int option, String exportName, int... infoRequests) throws IOException {
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

    void structuredReplies() throws IOException {
        assertEquals(REP_ACK, option(OPT_STRUCTURED_REPLY, new byte[0]).get(0).type());
    }

    // ---- transmission ----

    void request(int flags, int type, long handle, long offsetBytes, long lengthBytes) throws IOException {
        out.write(NbdWire.request(flags, type, handle, offsetBytes, lengthBytes));
        out.flush();
    }

    void writeRequest(int flags, long handle, long offsetBytes, byte[] payload) throws IOException {
        out.write(NbdWire.write(flags, handle, offsetBytes, payload));
        out.flush();
    }

    record SimpleReply(int error, long handle) {
    }

    SimpleReply readSimpleReply() throws IOException {
        assertEquals(SIMPLE_REPLY_MAGIC, in.readInt(), "simple reply magic");
        return new SimpleReply(in.readInt(), in.readLong());
    }

    record Chunk(int flags, int type, long handle, byte[] payload) {
        ByteBuffer buffer() {
            return ByteBuffer.wrap(payload);
        }

        boolean isDone() {
            return (flags & REPLY_FLAG_DONE) != 0;
        }

        /** The error of an NBD_REPLY_TYPE_ERROR chunk. */
        int error() {
            assertEquals(REPLY_TYPE_ERROR, type, "an error chunk");
            return buffer().getInt();
        }

        String errorMessage() {
            ByteBuffer b = buffer();
            b.getInt();
            byte[] text = new byte[b.getShort()];
            b.get(text);
            return new String(text, StandardCharsets.UTF_8);
        }
    }

    Chunk readChunk() throws IOException {
        assertEquals(STRUCTURED_REPLY_MAGIC, in.readInt(), "structured reply magic");
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long handle = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        return new Chunk(flags, type, handle, payload);
    }

    /** A command without payload, answered by a simple reply; returns its error. */
    int simple(int flags, int type, long offsetBytes, long lengthBytes) throws IOException {
        long handle = System.nanoTime();
        request(flags, type, handle, offsetBytes, lengthBytes);
        SimpleReply r = readSimpleReply();
        assertEquals(handle, r.handle());
        return r.error();
    }

    /** A write answered by a simple reply; returns its error. */
    int write(int flags, long offsetBytes, byte[] payload) throws IOException {
        long handle = System.nanoTime();
        writeRequest(flags, handle, offsetBytes, payload);
        SimpleReply r = readSimpleReply();
        assertEquals(handle, r.handle());
        return r.error();
    }

    /** A successful read with simple replies. */
    byte[] read(long offsetBytes, int lengthBytes) throws IOException {
        long handle = System.nanoTime();
        request(0, CMD_READ, handle, offsetBytes, lengthBytes);
        SimpleReply r = readSimpleReply();
        assertEquals(new SimpleReply(0, handle), r);
        byte[] data = new byte[lengthBytes];
        in.readFully(data);
        return data;
    }

    void disconnect() throws IOException {
        request(0, CMD_DISC, 0, 0, 0);
    }

    /** True when the server has closed the connection (nothing more to read). */
    boolean isClosedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (EOFException | SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
