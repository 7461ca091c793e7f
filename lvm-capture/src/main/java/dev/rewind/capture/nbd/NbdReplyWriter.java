package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes what the server says to one client, each message whole under one lock: during the
 * handshake from the connection's reader thread, in transmission only from the connection's
 * writer thread ({@link NbdReplyQueue}), never from a shared worker. Headers go through one
 * reused direct buffer; payloads are written straight from the caller's buffer. The writes
 * block; {@link #writingSinceNanos()} tells the server's watchdog whether the client still
 * takes bytes.
 *
 * <p>Wire layouts (big-endian), from the spec:
 * <pre>
 * greeting:          u64 NBDMAGIC | u64 IHAVEOPT | u16 handshake flags
 * option reply:      u64 0x3e889045565a9 | u32 option | u32 reply type | u32 length | data
 * EXPORT_NAME reply: u64 size | u16 transmission flags | 124 zero bytes unless NO_ZEROES
 * simple reply:      u32 0x67446698 | u32 error | u64 handle | READ data when error is 0
 * structured chunk:  u32 0x668e33ef | u16 flags | u16 type | u64 handle | u32 length | payload
 *   OFFSET_DATA:     u64 offset | data
 *   BLOCK_STATUS:    u32 context id | (u32 extent length | u32 status flags)...
 *   ERROR:           u32 error | u16 message length | message
 * </pre>
 */
final class NbdReplyWriter {
    /** Payload bytes handed to one write call at most, so that a slow reader's progress shows (see {@link #writingSinceNanos}). */
    static final int WRITE_SLICE_BYTES = 256 << 10;
    /** Messages gathered into one write at most (see {@link #beginBatch()}). */
    static final int MAX_BATCH_MESSAGES = 64;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(EXPORT_NAME_REPLY_ZEROES).asReadOnlyBuffer();

    /** The socket, or the TLS channel over it after NBD_OPT_STARTTLS ({@link #switchTo}); written under the lock. */
    private GatheringByteChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteBuffer header = ByteBuffer.allocateDirect(64);
    private final ByteBuffer[] headerAndPayload = new ByteBuffer[2];
    private volatile long writingSinceNanos;
    /** While a batch is open: headers of the batched messages, and the buffers to write in one gathering write. */
    private final ByteBuffer batchHeaders = ByteBuffer.allocateDirect(MAX_BATCH_MESSAGES * 64);
    private final ByteBuffer[] batch = new ByteBuffer[2 * MAX_BATCH_MESSAGES];
    private int batchBuffers;
    private int batchMessages;
    private boolean batching;

    NbdReplyWriter(GatheringByteChannel channel) {
        this.channel = channel;
    }

    /** From now on, writes go through {@code next} (the TLS channel once the handshake is done). */
    void switchTo(GatheringByteChannel next) {
        lock.lock();
        try {
            channel = next;
        } finally {
            lock.unlock();
        }
    }

    void greeting() throws IOException {
        lock.lock();
        try {
            header.clear().putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES));
            send(null);
        } finally {
            lock.unlock();
        }
    }

    /** An option reply; {@code data} may be null for none. */
    void optionReply(int option, int replyType, ByteBuffer data) throws IOException {
        lock.lock();
        try {
            header.clear().putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(replyType).putInt(data == null ? 0 : data.remaining());
            send(data);
        } finally {
            lock.unlock();
        }
    }

    /** An option error reply carrying {@code message} for a person to read. */
    void optionError(int option, int replyType, String message) throws IOException {
        optionReply(option, replyType, ByteBuffer.wrap(utf8Truncated(message)));
    }

    void exportNameReply(long sizeBytes, int transmissionFlags, boolean noZeroes) throws IOException {
        lock.lock();
        try {
            header.clear().putLong(sizeBytes).putShort((short) transmissionFlags);
            send(noZeroes ? null : ZEROES.duplicate());
        } finally {
            lock.unlock();
        }
    }

    /** A simple reply without data: success of anything but READ, or an error. */
    void simpleReply(long handle, int error) throws IOException {
        lock.lock();
        try {
            header.clear().putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(handle);
            send(null);
        } finally {
            lock.unlock();
        }
    }

    /** A successful simple reply to READ, followed by all of {@code data}. */
    void simpleReadReply(long handle, ByteBuffer data) throws IOException {
        lock.lock();
        try {
            header.clear().putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(handle);
            send(data);
        } finally {
            lock.unlock();
        }
    }

    /** One NBD_REPLY_TYPE_OFFSET_DATA chunk holding all of {@code data}, read from {@code offsetBytes}. */
    void offsetDataChunk(long handle, long offsetBytes, ByteBuffer data, boolean done) throws IOException {
        lock.lock();
        try {
            chunkHeader(done, REPLY_TYPE_OFFSET_DATA, handle, 8 + data.remaining()).putLong(offsetBytes);
            send(data);
        } finally {
            lock.unlock();
        }
    }

    /** NBD_REPLY_TYPE_NONE with NBD_REPLY_FLAG_DONE: the request succeeded and nothing more follows. */
    void noneChunk(long handle) throws IOException {
        lock.lock();
        try {
            chunkHeader(true, REPLY_TYPE_NONE, handle, 0);
            send(null);
        } finally {
            lock.unlock();
        }
    }

    /** One NBD_REPLY_TYPE_BLOCK_STATUS chunk (final) with a single extent. */
    void blockStatusChunk(long handle, int contextId, int extentLengthBytes, int statusFlags) throws IOException {
        lock.lock();
        try {
            chunkHeader(true, REPLY_TYPE_BLOCK_STATUS, handle, 12).putInt(contextId).putInt(extentLengthBytes).putInt(statusFlags);
            send(null);
        } finally {
            lock.unlock();
        }
    }

    /** NBD_REPLY_TYPE_ERROR (final) with {@code error} and a message for a person. */
    void errorChunk(long handle, int error, String message) throws IOException {
        byte[] text = utf8Truncated(message);
        lock.lock();
        try {
            chunkHeader(true, REPLY_TYPE_ERROR, handle, 6 + text.length).putInt(error).putShort((short) text.length);
            send(ByteBuffer.wrap(text));
        } finally {
            lock.unlock();
        }
    }

    private ByteBuffer chunkHeader(boolean done, int type, long handle, int payloadLength) {
        return header.clear().putInt(STRUCTURED_REPLY_MAGIC).putShort((short) (done ? REPLY_FLAG_DONE : 0)).putShort((short) type)
                .putLong(handle).putInt(payloadLength);
    }

    /**
     * Starts gathering messages: until {@link #endBatch()}, each message is kept (its header
     * copied, its payload referenced) and they all go out in one gathering write. The caller
     * batches at most {@link #MAX_BATCH_MESSAGES} messages with {@link #WRITE_SLICE_BYTES} of
     * payload between them, and keeps the payloads untouched until
     * {@code endBatch} returns. Holds the lock until then.
     */
    void beginBatch() {
        lock.lock();
        batching = true;
        batchHeaders.clear();
        batchBuffers = 0;
        batchMessages = 0;
    }

    /** Writes every message of the batch, completely, and closes it. */
    void endBatch() throws IOException {
        try {
            writingSinceNanos = System.nanoTime();
            int first = 0;
            while (first < batchBuffers) {
                channel.write(batch, first, batchBuffers - first);
                writingSinceNanos = System.nanoTime();
                while (first < batchBuffers && !batch[first].hasRemaining()) {
                    first++;
                }
            }
        } finally {
            writingSinceNanos = 0;
            java.util.Arrays.fill(batch, 0, batchBuffers, null);
            batchBuffers = 0;
            batching = false;
            lock.unlock();
        }
    }

    /** Adds the message in {@link #header} and {@code payload} to the open batch. Lock held. */
    private void addToBatch(ByteBuffer payload) {
        if (batchMessages == MAX_BATCH_MESSAGES) {
            throw new IllegalStateException("a reply batch holds at most " + MAX_BATCH_MESSAGES + " messages");
        }
        header.flip();
        int start = batchHeaders.position();
        batchHeaders.put(header);
        batch[batchBuffers++] = batchHeaders.duplicate().position(start).limit(batchHeaders.position());
        if (payload != null && payload.hasRemaining()) {
            batch[batchBuffers++] = payload;
        }
        batchMessages++;
    }

    /**
     * Nonzero while a message is being written: when the last write call began or made
     * progress ({@link System#nanoTime()}). The server's watchdog drops a client that has not
     * taken any bytes for longer than the reply timeout.
     */
    long writingSinceNanos() {
        return writingSinceNanos;
    }

    /**
     * Writes {@link #header} (as filled so far) and then {@code payload}, completely, at most
     * {@link #WRITE_SLICE_BYTES} of payload per write call so that progress is seen. Lock held.
     */
    private void send(ByteBuffer payload) throws IOException {
        if (batching) {
            addToBatch(payload);
            return;
        }
        header.flip();
        writingSinceNanos = System.nanoTime();
        try {
            if (payload == null || !payload.hasRemaining()) {
                while (header.hasRemaining()) {
                    channel.write(header);
                    writingSinceNanos = System.nanoTime();
                }
                return;
            }
            int end = payload.limit();
            headerAndPayload[0] = header;
            headerAndPayload[1] = payload;
            try {
                while (payload.position() < end) {
                    payload.limit(Math.min(end, payload.position() + WRITE_SLICE_BYTES));
                    while (payload.hasRemaining()) {
                        channel.write(headerAndPayload);
                        writingSinceNanos = System.nanoTime();
                    }
                }
            } finally {
                payload.limit(end);
                headerAndPayload[1] = null;
            }
        } finally {
            writingSinceNanos = 0;
        }
    }

    /** UTF-8 of {@code text}, cut at a character boundary to the spec's 4096-byte limit for strings. */
    static byte[] utf8Truncated(String text) {
        byte[] bytes = (text == null ? "" : text.replace('\0', '?')).getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_STRING_BYTES) {
            return bytes;
        }
        int end = MAX_STRING_BYTES;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--;
        }
        return java.util.Arrays.copyOf(bytes, end);
    }
}
