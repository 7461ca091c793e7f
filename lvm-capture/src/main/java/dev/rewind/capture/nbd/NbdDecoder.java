package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;

import dev.rewind.capture.nbd.NbdMessage.AbortOption;
import dev.rewind.capture.nbd.NbdMessage.ClientFlags;
import dev.rewind.capture.nbd.NbdMessage.CommandRequest;
import dev.rewind.capture.nbd.NbdMessage.ExportNameOption;
import dev.rewind.capture.nbd.NbdMessage.HardDisconnect;
import dev.rewind.capture.nbd.NbdMessage.InfoOption;
import dev.rewind.capture.nbd.NbdMessage.ListOption;
import dev.rewind.capture.nbd.NbdMessage.MetaContextOption;
import dev.rewind.capture.nbd.NbdMessage.RefusedOption;
import dev.rewind.capture.nbd.NbdMessage.RejectedRequest;
import dev.rewind.capture.nbd.NbdMessage.StartTlsOption;
import dev.rewind.capture.nbd.NbdMessage.StructuredReplyOption;
import dev.rewind.capture.nbd.NbdMessage.WriteRequest;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the bytes an NBD client sends into {@link NbdMessage} records, one at a time, from
 * input that may arrive split at any byte. Every limit is checked before anything is
 * allocated for it: option data (64 KiB, export names 4096 bytes), READ and WRITE lengths
 * (32 MiB), offset + length within the export, flags per command, writes on a read-only export.
 *
 * <p>Wire layouts (big-endian), from the spec:
 * <pre>
 * client flags:    u32 flags
 * option:          u64 IHAVEOPT | u32 option | u32 length | length bytes of data
 *   EXPORT_NAME:   name
 *   INFO, GO:      u32 name length | name | u16 count | count x u16 NBD_INFO_*
 *   LIST/SET_META_CONTEXT: u32 name length | name | u32 count | count x (u32 length | query)
 * request:         u32 0x25609513 | u16 flags | u16 type | u64 handle | u64 offset | u32 length
 *                  | length bytes of data for NBD_CMD_WRITE
 * </pre>
 *
 * <p>The decoder returns at most one message per call and consumes only that message's bytes,
 * so that the connection can change phase between messages ({@link #enterTransmission}).
 * Not thread-safe: one reader thread per connection owns it.
 */
final class NbdDecoder implements AutoCloseable {
    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, REQUEST_HEADER, WRITE_PAYLOAD, DISCARD, CLOSED }

    private final NbdBufferPool payloads;
    private final ByteBuffer header = ByteBuffer.allocate(REQUEST_HEADER_BYTES);
    private State state = State.CLIENT_FLAGS;

    private int option;
    private ByteBuffer optionData;

    private long discardBytes;
    private NbdMessage afterDiscard;
    private State stateAfterDiscard;

    private CommandRequest pendingWrite;
    private ByteBuffer payload;

    private long exportSizeBytes;
    private boolean readOnly;
    private boolean structuredReplies;
    private boolean blockStatus;

    NbdDecoder(NbdBufferPool payloads) {
        this.payloads = payloads;
    }

    /**
     * Switches from option haggling to requests, for an export of {@code exportSizeBytes};
     * called by the server once it has accepted NBD_OPT_EXPORT_NAME or NBD_OPT_GO.
     */
    void enterTransmission(long exportSizeBytes, boolean readOnly, boolean structuredReplies, boolean blockStatus) {
        if (state != State.OPTION_HEADER) {
            throw new IllegalStateException("transmission can start only between options, not in state " + state);
        }
        this.exportSizeBytes = exportSizeBytes;
        this.readOnly = readOnly;
        this.structuredReplies = structuredReplies;
        this.blockStatus = blockStatus;
        state = State.REQUEST_HEADER;
    }

    /**
     * Decodes the next message from {@code in}, or returns null once {@code in} is used up
     * without completing one (the bytes are kept; call again with more).
     */
    NbdMessage decode(ByteBuffer in) throws InterruptedException {
        for (;;) {
            NbdMessage message;
            switch (state) {
                case CLIENT_FLAGS -> {
                    if (!fillHeader(in, CLIENT_FLAGS_BYTES)) {
                        return null;
                    }
                    int flags = header.getInt(0);
                    header.clear();
                    return clientFlags(flags);
                }
                case OPTION_HEADER -> {
                    if (!fillHeader(in, OPTION_HEADER_BYTES)) {
                        return null;
                    }
                    message = optionHeader();
                }
                case OPTION_DATA -> {
                    copy(in, optionData);
                    if (optionData.hasRemaining()) {
                        return null;
                    }
                    state = State.OPTION_HEADER;
                    ByteBuffer data = optionData.flip();
                    optionData = null;
                    return option(option, data);
                }
                case REQUEST_HEADER -> {
                    if (!fillHeader(in, REQUEST_HEADER_BYTES)) {
                        return null;
                    }
                    message = requestHeader();
                }
                case WRITE_PAYLOAD -> {
                    copy(in, payload);
                    if (payload.hasRemaining()) {
                        return null;
                    }
                    WriteRequest write = new WriteRequest(pendingWrite, payload.flip());
                    payload = null;
                    pendingWrite = null;
                    state = State.REQUEST_HEADER;
                    return write;
                }
                case DISCARD -> {
                    int n = (int) Math.min(discardBytes, in.remaining());
                    in.position(in.position() + n);
                    discardBytes -= n;
                    if (discardBytes > 0) {
                        return null;
                    }
                    state = stateAfterDiscard;
                    message = afterDiscard;
                    afterDiscard = null;
                }
                case CLOSED -> {
                    in.position(in.limit());
                    return null;
                }
                default -> throw new IllegalStateException(state.toString());
            }
            if (message != null) {
                return message;
            }
        }
    }

    /**
     * The buffer the rest of a WRITE payload goes into, while one is being read; the reader
     * may fill it straight from the socket (then call {@link #decode} with an empty buffer).
     */
    ByteBuffer payloadToFill() {
        return state == State.WRITE_PAYLOAD ? payload : null;
    }

    /** Stops decoding and gives back a WRITE payload buffer still being filled. */
    @Override
    public void close() {
        if (payload != null) {
            payloads.release(payload);
            payload = null;
        }
        state = State.CLOSED;
    }

    // ---- handshake ----

    private NbdMessage clientFlags(int flags) {
        if ((flags & ~KNOWN_CLIENT_FLAGS) != 0) {
            return disconnect(String.format("client flags 0x%08x carry unknown bits", flags));
        }
        state = State.OPTION_HEADER;
        return new ClientFlags((flags & FLAG_C_FIXED_NEWSTYLE) != 0, (flags & FLAG_C_NO_ZEROES) != 0);
    }

    /** Checks an option header; returns the message at once, or null to read or skip its data first. */
    private NbdMessage optionHeader() {
        long magic = header.getLong(0);
        int opt = header.getInt(8);
        long length = Integer.toUnsignedLong(header.getInt(12));
        header.clear();
        if (magic != IHAVEOPT) {
            return disconnect(String.format("option magic 0x%016x is not IHAVEOPT", magic));
        }
        switch (opt) {
            case OPT_EXPORT_NAME -> {
                if (length > MAX_STRING_BYTES) {
                    return disconnect("NBD_OPT_EXPORT_NAME of " + length + " bytes is longer than " + MAX_STRING_BYTES
                            + ", and that option cannot be answered with an error");
                }
                return readOptionData(opt, length);
            }
            case OPT_ABORT -> {
                return discard(length, new AbortOption(), State.OPTION_HEADER);
            }
            case OPT_LIST, OPT_STRUCTURED_REPLY -> {
                if (length != 0) {
                    return discard(length, new RefusedOption(opt, REP_ERR_INVALID, optionName(opt) + " takes no data, got "
                            + length + " bytes"), State.OPTION_HEADER);
                }
                return opt == OPT_LIST ? new ListOption() : new StructuredReplyOption();
            }
            case OPT_STARTTLS -> {
                if (length != 0) {
                    return discard(length, new RefusedOption(opt, REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data, got "
                            + length + " bytes"), State.OPTION_HEADER);
                }
                return new StartTlsOption();
            }
            case OPT_INFO, OPT_GO, OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> {
                if (length > MAX_OPTION_DATA_BYTES) {
                    return discard(length, new RefusedOption(opt, REP_ERR_TOO_BIG, optionName(opt) + " with " + length
                            + " bytes of data is larger than this server's limit of " + MAX_OPTION_DATA_BYTES), State.OPTION_HEADER);
                }
                return readOptionData(opt, length);
            }
            default -> {
                return discard(length, new RefusedOption(opt, REP_ERR_UNSUP, optionName(opt) + " is not supported by this server"),
                        State.OPTION_HEADER);
            }
        }
    }

    private NbdMessage readOptionData(int opt, long length) {
        if (length == 0) {
            return option(opt, ByteBuffer.allocate(0));
        }
        option = opt;
        optionData = ByteBuffer.allocate((int) length);
        state = State.OPTION_DATA;
        return null;
    }

    private NbdMessage option(int opt, ByteBuffer data) {
        return switch (opt) {
            case OPT_EXPORT_NAME -> {
                String name = utf8(data, data.remaining());
                yield name != null ? new ExportNameOption(name)
                        : disconnect("NBD_OPT_EXPORT_NAME carries a name that is not valid UTF-8 or contains NUL");
            }
            case OPT_INFO, OPT_GO -> infoOption(opt, data);
            case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContextOption(opt, data);
            default -> throw new IllegalStateException("no data is read for " + optionName(opt));
        };
    }

    private static NbdMessage infoOption(int opt, ByteBuffer data) {
        int length = data.remaining();
        if (length < 6) {
            return invalid(opt, "data of " + length + " bytes is shorter than the 6 bytes of an empty request");
        }
        long nameLength = Integer.toUnsignedLong(data.getInt());
        if (nameLength > length - 6) {
            return invalid(opt, "name length " + nameLength + " does not fit in " + length + " bytes of data");
        }
        if (nameLength > MAX_STRING_BYTES) {
            return invalid(opt, "export name of " + nameLength + " bytes is longer than " + MAX_STRING_BYTES);
        }
        String name = utf8(data, (int) nameLength);
        if (name == null) {
            return invalid(opt, "export name is not valid UTF-8 or contains NUL");
        }
        int count = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != 2 * count) {
            return invalid(opt, count + " information requests need " + 2 * count + " bytes, " + data.remaining() + " are left");
        }
        List<Integer> requests = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            requests.add(Short.toUnsignedInt(data.getShort()));
        }
        return new InfoOption(opt == OPT_GO, name, List.copyOf(requests));
    }

    private static NbdMessage metaContextOption(int opt, ByteBuffer data) {
        if (data.remaining() < 8) {
            return invalid(opt, "data of " + data.remaining() + " bytes is shorter than the 8 bytes of an empty request");
        }
        long nameLength = Integer.toUnsignedLong(data.getInt());
        if (nameLength > data.remaining() - 4) {
            return invalid(opt, "name length " + nameLength + " does not fit in the data");
        }
        if (nameLength > MAX_STRING_BYTES) {
            return invalid(opt, "export name of " + nameLength + " bytes is longer than " + MAX_STRING_BYTES);
        }
        String name = utf8(data, (int) nameLength);
        if (name == null) {
            return invalid(opt, "export name is not valid UTF-8 or contains NUL");
        }
        long count = Integer.toUnsignedLong(data.getInt());
        if (count > data.remaining() / 4) {
            return invalid(opt, count + " queries cannot fit in the " + data.remaining() + " bytes left");
        }
        List<String> queries = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) {
            if (data.remaining() < 4) {
                return invalid(opt, "query " + i + " of " + count + " is cut off");
            }
            long queryLength = Integer.toUnsignedLong(data.getInt());
            if (queryLength > data.remaining()) {
                return invalid(opt, "query length " + queryLength + " goes beyond the data");
            }
            if (queryLength > MAX_STRING_BYTES) {
                return invalid(opt, "query of " + queryLength + " bytes is longer than " + MAX_STRING_BYTES);
            }
            String query = utf8(data, (int) queryLength);
            if (query == null) {
                return invalid(opt, "query " + i + " is not valid UTF-8 or contains NUL");
            }
            queries.add(query);
        }
        if (data.hasRemaining()) {
            return invalid(opt, data.remaining() + " bytes follow the last query");
        }
        return new MetaContextOption(opt == OPT_SET_META_CONTEXT, name, List.copyOf(queries));
    }

    private static RefusedOption invalid(int opt, String why) {
        return new RefusedOption(opt, REP_ERR_INVALID, optionName(opt) + ": " + why);
    }

    /** Reads {@code length} bytes of strict UTF-8 without NUL; null if they are not. */
    private static String utf8(ByteBuffer data, int length) {
        ByteBuffer bytes = data.slice(data.position(), length);
        data.position(data.position() + length);
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
            return s.indexOf('\0') >= 0 ? null : s;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    // ---- transmission ----

    /** Checks a request header; returns the message at once, or null to read or skip a WRITE payload first. */
    private NbdMessage requestHeader() throws InterruptedException {
        int magic = header.getInt(0);
        int flags = Short.toUnsignedInt(header.getShort(4));
        int type = Short.toUnsignedInt(header.getShort(6));
        long handle = header.getLong(8);
        long offset = header.getLong(16);
        int length = header.getInt(24);
        header.clear();
        if (magic != REQUEST_MAGIC) {
            return disconnect(String.format("request magic 0x%08x is not 0x%08x", magic, REQUEST_MAGIC));
        }
        CommandRequest request = new CommandRequest(flags, type, handle, offset, length);
        long lengthBytes = request.lengthBytes();
        if (type == CMD_WRITE && lengthBytes > MAX_BLOCK_BYTES) {
            return disconnect("NBD_CMD_WRITE of " + lengthBytes + " bytes is larger than the maximum block size of "
                    + MAX_BLOCK_BYTES + "; its payload cannot be skipped safely");
        }
        if (type == CMD_DISC) {
            state = State.CLOSED;
            return request;
        }
        RejectedRequest rejected = check(request);
        if (type == CMD_WRITE && lengthBytes > 0) {
            if (rejected != null) {
                return discard(lengthBytes, rejected, State.REQUEST_HEADER);
            }
            payload = payloads.acquire(length);
            pendingWrite = request;
            state = State.WRITE_PAYLOAD;
            return null;
        }
        return rejected != null ? rejected : request;
    }

    /** Every rule a request must pass before it may reach an export; null when it passes. */
    private RejectedRequest check(CommandRequest r) {
        int type = r.type();
        long lengthBytes = r.lengthBytes();
        String command = commandName(type);
        int allowedFlags = CMD_FLAG_FUA;
        switch (type) {
            case CMD_READ -> allowedFlags |= structuredReplies ? CMD_FLAG_DF : 0;
            case CMD_WRITE_ZEROES -> allowedFlags |= CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO;
            case CMD_BLOCK_STATUS -> allowedFlags |= CMD_FLAG_REQ_ONE;
            case CMD_WRITE, CMD_FLUSH, CMD_TRIM -> {
            }
            default -> {
                return reject(r, EINVAL, "unknown command " + type);
            }
        }
        if ((r.flags() & ~allowedFlags) != 0) {
            return reject(r, EINVAL, String.format("flags 0x%04x are not valid for %s", r.flags() & ~allowedFlags, command));
        }
        if (type == CMD_BLOCK_STATUS && !blockStatus) {
            return reject(r, EINVAL, "NBD_CMD_BLOCK_STATUS needs base:allocation selected with NBD_OPT_SET_META_CONTEXT for this export");
        }
        if (readOnly && (type == CMD_WRITE || type == CMD_TRIM || type == CMD_WRITE_ZEROES)) {
            return reject(r, EPERM, command + " on a read-only export");
        }
        if (type == CMD_FLUSH) {
            return r.offset() != 0 || r.length() != 0 ? reject(r, EINVAL, "NBD_CMD_FLUSH must have offset and length 0") : null;
        }
        // Only READ is held to the maximum block size here (WRITE is, by disconnecting, above): TRIM
        // and WRITE_ZEROES carry no payload and cost no buffer, and the Linux kernel client sends
        // them far larger than 32 MiB; the spec only says SHOULD for WRITE_ZEROES.
        if (type == CMD_READ && lengthBytes > MAX_BLOCK_BYTES) {
            return reject(r, EINVAL, command + " of " + lengthBytes + " bytes is larger than the maximum block size of " + MAX_BLOCK_BYTES);
        }
        if (r.offset() < 0 || r.offset() > exportSizeBytes || lengthBytes > exportSizeBytes - r.offset()) {
            int error = type == CMD_WRITE || type == CMD_WRITE_ZEROES ? ENOSPC : EINVAL;
            return reject(r, error, command + " of " + lengthBytes + " bytes at offset " + Long.toUnsignedString(r.offset())
                    + " goes beyond the end of the export (" + exportSizeBytes + " bytes)");
        }
        if (type == CMD_BLOCK_STATUS && lengthBytes == 0) {
            return reject(r, EINVAL, "NBD_CMD_BLOCK_STATUS of 0 bytes has no extent to describe");
        }
        return null;
    }

    private static RejectedRequest reject(CommandRequest r, int error, String message) {
        return new RejectedRequest(r, error, message);
    }

    // ---- helpers ----

    private NbdMessage disconnect(String reason) {
        close();
        return new HardDisconnect(reason);
    }

    private NbdMessage discard(long length, NbdMessage then, State next) {
        if (length == 0) {
            state = next;
            return then;
        }
        discardBytes = length;
        afterDiscard = then;
        stateAfterDiscard = next;
        state = State.DISCARD;
        return null;
    }

    /** Collects {@code size} bytes into {@link #header}; true once they are all there. */
    private boolean fillHeader(ByteBuffer in, int size) {
        header.limit(size);
        copy(in, header);
        return !header.hasRemaining();
    }

    private static void copy(ByteBuffer in, ByteBuffer to) {
        int n = Math.min(in.remaining(), to.remaining());
        if (n > 0) {
            to.put(to.position(), in, in.position(), n);
            to.position(to.position() + n);
            in.position(in.position() + n);
        }
    }
}
