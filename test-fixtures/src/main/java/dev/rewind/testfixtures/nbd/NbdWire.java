package dev.rewind.testfixtures.nbd;

import dev.rewind.capture.nbd.NbdProtocol;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Builds the bytes an NBD client sends (options, requests, payloads), from the production
 * protocol constants, for tests that feed a server or a decoder raw bytes.
 */
public final class NbdWire {
    private NbdWire() {
    }

    public static byte[] clientFlags(int flags) {
        return ByteBuffer.allocate(4).putInt(flags).array();
    }

    public static byte[] option(int option, byte[] data) {
        return ByteBuffer.allocate(16 + data.length).putLong(NbdProtocol.IHAVEOPT).putInt(option).putInt(data.length).put(data).array();
    }

    /** An option header announcing {@code lengthBytes} of data, without the data. */
    public static byte[] optionHeader(int option, long lengthBytes) {
        return ByteBuffer.allocate(16).putLong(NbdProtocol.IHAVEOPT).putInt(option).putInt((int) lengthBytes).array();
    }

    public static byte[] exportName(String name) {
        return option(NbdProtocol.OPT_EXPORT_NAME, utf8(name));
    }

    /** The data of NBD_OPT_INFO / NBD_OPT_GO. */
    public static byte[] infoData(String name, int... infoRequests) {
        byte[] n = utf8(name);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infoRequests.length).putInt(n.length).put(n).putShort((short) infoRequests.length);
        for (int r : infoRequests) {
            b.putShort((short) r);
        }
        return b.array();
    }

    /** The data of NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT. */
    public static byte[] metaContextData(String name, String... queries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] n = utf8(name);
        out.writeBytes(ByteBuffer.allocate(4).putInt(n.length).array());
        out.writeBytes(n);
        out.writeBytes(ByteBuffer.allocate(4).putInt(queries.length).array());
        for (String q : queries) {
            byte[] b = utf8(q);
            out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    public static byte[] request(int flags, int type, long handle, long offsetBytes, long lengthBytes) {
        return ByteBuffer.allocate(28).putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(handle)
                .putLong(offsetBytes).putInt((int) lengthBytes).array();
    }

    public static byte[] write(int flags, long handle, long offsetBytes, byte[] payload) {
        return concat(request(flags, NbdProtocol.CMD_WRITE, handle, offsetBytes, payload.length), payload);
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }
}
