package dev.rewind.capture.nbd;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * What the {@link NbdDecoder} makes of the client's bytes: one record per client message,
 * each already checked against every limit. The server acts on these and never on raw bytes.
 */
sealed interface NbdMessage {

    // ---- handshake ----

    /** The client's 32-bit flags, known bits only (unknown bits end the session instead). */
    record ClientFlags(boolean fixedNewstyle, boolean noZeroes) implements NbdMessage {
    }

    /**
     * The client broke a MUST that leaves no way to answer (bad magic, an oversized write,
     * an unknown client flag, an unusable NBD_OPT_EXPORT_NAME): the server drops the connection.
     */
    record HardDisconnect(String reason) implements NbdMessage {
    }

    /** NBD_OPT_EXPORT_NAME: enter transmission with this export, or be disconnected. */
    record ExportNameOption(String exportName) implements NbdMessage {
    }

    /** NBD_OPT_INFO ({@code go == false}) or NBD_OPT_GO, with the NBD_INFO_* items the client asked for. */
    record InfoOption(boolean go, String exportName, List<Integer> infoRequests) implements NbdMessage {
        int option() {
            return go ? NbdProtocol.OPT_GO : NbdProtocol.OPT_INFO;
        }
    }

    /** NBD_OPT_LIST with no data. */
    record ListOption() implements NbdMessage {
    }

    /** NBD_OPT_ABORT (any data it carried was skipped, as the spec asks). */
    record AbortOption() implements NbdMessage {
    }

    /** NBD_OPT_STARTTLS with no data: upgrade the connection to TLS once it is acknowledged. */
    record StartTlsOption() implements NbdMessage {
    }

    /** NBD_OPT_STRUCTURED_REPLY with no data. */
    record StructuredReplyOption() implements NbdMessage {
    }

    /** NBD_OPT_LIST_META_CONTEXT ({@code set == false}) or NBD_OPT_SET_META_CONTEXT. */
    record MetaContextOption(boolean set, String exportName, List<String> queries) implements NbdMessage {
        int option() {
            return set ? NbdProtocol.OPT_SET_META_CONTEXT : NbdProtocol.OPT_LIST_META_CONTEXT;
        }
    }

    /**
     * An option answered with an error and nothing else: unknown ({@code NBD_REP_ERR_UNSUP}),
     * malformed ({@code NBD_REP_ERR_INVALID}) or too large ({@code NBD_REP_ERR_TOO_BIG}).
     * Its data, if any, has been skipped.
     */
    record RefusedOption(int option, int replyType, String message) implements NbdMessage {
    }

    // ---- transmission ----

    /**
     * A request header that passed every check, with no payload: READ, FLUSH, TRIM,
     * WRITE_ZEROES, BLOCK_STATUS, DISC, or a WRITE of zero bytes. {@code length} and
     * {@code offset} are unsigned on the wire; see {@link #lengthBytes()}.
     */
    record CommandRequest(int flags, int type, long handle, long offset, int length) implements NbdMessage {
        long lengthBytes() {
            return Integer.toUnsignedLong(length);
        }

        boolean hasFlag(int flag) {
            return (flags & flag) != 0;
        }
    }

    /**
     * An accepted NBD_CMD_WRITE with its payload, in a buffer from the {@link NbdBufferPool}
     * (position 0, limit = length); whoever takes this message releases the buffer.
     */
    record WriteRequest(CommandRequest command, ByteBuffer payload) implements NbdMessage {
    }

    /** A well-framed request refused before reaching the export: answer it with {@code error}. */
    record RejectedRequest(CommandRequest command, int error, String message) implements NbdMessage {
    }
}
