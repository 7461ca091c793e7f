package dev.rewind.capture.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One reply of the transmission phase, as a worker decided it: a value that the connection's
 * writer thread later puts on the wire through {@link NbdReplyWriter}. Workers build these and
 * never touch the socket (see {@link NbdReplyQueue}).
 */
sealed interface NbdReply {
    long handle();

    /** Writes the whole reply; blocks while the client does not read. */
    void writeTo(NbdReplyWriter writer) throws IOException;

    /** A simple reply without data: success of anything but READ, or an error. */
    record Simple(long handle, int error) implements NbdReply {
        @Override
        public void writeTo(NbdReplyWriter writer) throws IOException {
            writer.simpleReply(handle, error);
        }
    }

    /** A successful simple reply to READ followed by {@code data}. */
    record SimpleRead(long handle, ByteBuffer data) implements NbdReply {
        @Override
        public void writeTo(NbdReplyWriter writer) throws IOException {
            writer.simpleReadReply(handle, data);
        }
    }

    /** A final NBD_REPLY_TYPE_OFFSET_DATA chunk with {@code data} read at {@code offsetBytes}. */
    record OffsetData(long handle, long offsetBytes, ByteBuffer data) implements NbdReply {
        @Override
        public void writeTo(NbdReplyWriter writer) throws IOException {
            writer.offsetDataChunk(handle, offsetBytes, data, true);
        }
    }

    /** A final NBD_REPLY_TYPE_NONE chunk. */
    record None(long handle) implements NbdReply {
        @Override
        public void writeTo(NbdReplyWriter writer) throws IOException {
            writer.noneChunk(handle);
        }
    }

    /** A final NBD_REPLY_TYPE_BLOCK_STATUS chunk with one extent. */
    record BlockStatus(long handle, int contextId, int extentLengthBytes, int statusFlags) implements NbdReply {
        @Override
        public void writeTo(NbdReplyWriter writer) throws IOException {
            writer.blockStatusChunk(handle, contextId, extentLengthBytes, statusFlags);
        }
    }

    /** A final NBD_REPLY_TYPE_ERROR chunk with a message for a person. */
    record ErrorChunk(long handle, int error, String message) implements NbdReply {
        @Override
        public void writeTo(NbdReplyWriter writer) throws IOException {
            writer.errorChunk(handle, error, message);
        }
    }
}
