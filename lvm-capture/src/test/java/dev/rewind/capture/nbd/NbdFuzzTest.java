package dev.rewind.capture.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * Sends the NBD server at least 100,000 malformed or mutated handshake options and requests
 * (bad magic, short and oversized option lengths, lengths over 32 MiB, offsets past the end,
 * unknown commands, options and flags, writes to a read-only export, unknown export names,
 * abrupt disconnects mid-header and mid-payload, random bit flips of valid traffic) from a
 * seeded {@link Random}, between valid traffic, and checks after every connection:
 * <ul>
 * <li>every answer is well formed and is either success for a valid request or an error the
 *     spec names for it, or the connection is closed where the spec allows that;</li>
 * <li>the server keeps serving: a fresh valid connection reads the right bytes;</li>
 * <li>{@code lastSeq} moved by exactly the number of write-class requests that were valid
 *     (and answered with success), and the primary equals a byte-array model that applies
 *     only those: invalid input never reaches the journal or the primary;</li>
 * <li>reads of the member and of past read-only exports return the model's bytes;</li>
 * <li>the server logs no warning (no internal failure, no I/O error).</li>
 * </ul>
 * The oracle is written from the spec ({@code doc/proto.md} of NetworkBlockDevice/nbd), with its
 * own constants, not from the server's code. On failure the seed is printed; {@code
 * -Drewind.seed=N} replays a run and {@code -Drewind.fuzz.messages=N} changes its length.
 */
class NbdFuzzTest {
    private static final int TIMEOUT_MS = 10_000;
    private static final int MEMBER_BYTES = 4 << 20;

    // ---- the spec's numbers, written out independently of NbdProtocol ----
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 2;
    static final int FLAG_C_FIXED_NEWSTYLE = 1;
    static final int FLAG_C_NO_ZEROES = 2;

    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int OPT_LIST_META_CONTEXT = 9;
    static final int OPT_SET_META_CONTEXT = 10;

    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_META_CONTEXT = 4;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_POLICY = 0x80000002;
    static final int REP_ERR_INVALID = 0x80000003;
    static final int REP_ERR_UNKNOWN = 0x80000006;
    static final int REP_ERR_TOO_BIG = 0x80000009;

    static final int INFO_EXPORT = 0;
    static final int INFO_NAME = 1;
    static final int INFO_DESCRIPTION = 2;
    static final int INFO_BLOCK_SIZE = 3;

    static final int TF_HAS_FLAGS = 1;
    static final int TF_READ_ONLY = 1 << 1;
    static final int TF_SEND_FLUSH = 1 << 2;
    static final int TF_SEND_FUA = 1 << 3;
    static final int TF_SEND_TRIM = 1 << 5;
    static final int TF_SEND_WRITE_ZEROES = 1 << 6;
    static final int TF_SEND_DF = 1 << 7;
    static final int TF_SEND_CACHE = 1 << 10;
    static final int TF_SEND_FAST_ZERO = 1 << 11;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_CACHE = 5;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_BLOCK_STATUS = 7;

    static final int CF_FUA = 1;
    static final int CF_NO_HOLE = 1 << 1;
    static final int CF_DF = 1 << 2;
    static final int CF_REQ_ONE = 1 << 3;
    static final int CF_FAST_ZERO = 1 << 4;

    static final int REPLY_FLAG_DONE = 1;
    static final int RT_NONE = 0;
    static final int RT_OFFSET_DATA = 1;
    static final int RT_OFFSET_HOLE = 2;
    static final int RT_BLOCK_STATUS = 5;
    static final int RT_ERROR = (1 << 15) + 1;
    static final int RT_ERROR_OFFSET = (1 << 15) + 2;

    static final int EPERM = 1;
    static final int EIO = 5;
    static final int ENOMEM = 12;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int EOVERFLOW = 75;
    static final int ENOTSUP = 95;
    static final int ESHUTDOWN = 108;
    /** The error values the spec defines; nothing else may appear in a reply. */
    static final Set<Integer> SPEC_ERRORS = Set.of(EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN);

    static final int MAX_STRING = 4096;
    static final long MAX_BLOCK = 32 << 20;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.of(0xF022_0B0DL);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void malformedAndMutatedTrafficGetsSpecErrorsOrDisconnectsAndNeverReachesTheJournal(long seed) throws Exception {
        fuzz(seed, Integer.getInteger("rewind.fuzz.messages", 100_000), tmp, NbdTls.OFF, null);
    }

    /**
     * The fuzz run of {@code seed} until {@code target} malformed or mutated messages, on a
     * server with {@code tls} on its TCP listener. With a {@code tlsClient}, every connection
     * that gets past the client flags sends NBD_OPT_STARTTLS first and fuzzes inside TLS
     * (a later STARTTLS is then NBD_REP_ERR_INVALID); garbage connections stay plain.
     */
    static void fuzz(long seed, int target, Path tmp, NbdTls tls, javax.net.ssl.SSLContext tlsClient) throws Exception {
        System.out.println("NbdFuzzTest: " + Seeds.describe(seed) + ", " + target + " malformed or mutated messages"
                + (tlsClient != null ? ", inside TLS" : ""));
        Logger nbdLog = (Logger) LoggerFactory.getLogger("dev.rewind.capture.nbd");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        nbdLog.addAppender(logged);
        boolean additive = nbdLog.isAdditive();
        nbdLog.setAdditive(false); // thousands of "disconnecting" lines are expected; keep them off the console
        try (TestSet t = TestSet.create(tmp, "s", MEMBER_BYTES); CapturedSet set = t.open()) {
            NbdServer server = NbdServer.start(List.of(new InetSocketAddress("127.0.0.1", 0)),
                    new CapturedSetExports(Map.of("s", set), (s, b) -> OptionalLong.empty()), NbdServer.Settings.DEFAULT, tls, NbdServer.TcpWrites.ANY_CLIENT);
            Fuzz fuzz = new NbdFuzzTest().new Fuzz(seed, set, server, tlsClient);
            long started = System.nanoTime();
            try {
                fuzz.run(target);
                List<String> warnings = logged.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                        .map(e -> e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getClassName()
                                + ": " + e.getThrowableProxy().getMessage()))
                        .toList();
                assertTrue(warnings.isEmpty(), () -> warnings.size() + " server warnings, first: " + warnings.subList(0, Math.min(5, warnings.size())));
            } catch (Throwable e) {
                throw new AssertionError("NBD fuzz failed with " + Seeds.describe(seed) + " after "
                        + fuzz.messages + " messages (" + fuzz.bad + " malformed or mutated) on " + fuzz.connections + " connections; last steps:\n"
                        + fuzz.trace(), e);
            } finally {
                server.close();
            }
            System.out.printf("NbdFuzzTest: %d messages (%d malformed or mutated) on %d connections in %d ms, lastSeq %d; %s%n",
                    fuzz.messages, fuzz.bad, fuzz.connections,
                    (System.nanoTime() - started) / 1_000_000, set.lastSeq(), fuzz.stats);
            assertEquals(set.lastSeq(), set.flushedSeq(), "every write is durable once the server has closed its connections");
        } finally {
            nbdLog.detachAppender(logged);
            nbdLog.setAdditive(additive);
        }
    }

    /**
     * Clients that send the header of a large, valid write and then stall each hold a payload
     * buffer; they must not keep other clients from being served: past the payload timeout they
     * are disconnected and their buffers go back to the shared budget.
     */
    @Test
    void clientsStalledMidPayloadDoNotStopOtherClientsBeingServed() throws Exception {
        try (TestSet t = TestSet.create(tmp, "s", MEMBER_BYTES); CapturedSet set = t.open()) {
            NbdServer server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0),
                    new CapturedSetExports(Map.of("s", set), (s, b) -> OptionalLong.empty()),
                    new NbdServer.Settings(8, 128, MAX_BLOCK, 0, java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(1)), NbdServer.TcpWrites.ANY_CLIENT);
            List<NbdTestClient> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < MAX_BLOCK / MEMBER_BYTES; i++) {
                    NbdTestClient c = openGo(server.port(), "s/m0");
                    c.out.write(ByteBuffer.allocate(29).putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_WRITE).putLong(i)
                            .putLong(0).putInt(MEMBER_BYTES).put((byte) 1).array()); // the header and 1 byte of a 4 MiB payload
                    c.out.flush();
                    stalled.add(c);
                }
                try (NbdTestClient c = openGo(server.port(), "s/m0")) {
                    c.out.write(ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_READ).putLong(1)
                            .putLong(0).putInt(4096).array());
                    c.out.flush();
                    c.socket.setSoTimeout(5000);
                    try {
                        assertEquals(SIMPLE_REPLY_MAGIC, c.in.readInt());
                    } catch (SocketTimeoutException e) {
                        throw new AssertionError("a 4 KiB read by another client got no answer within 5 s while " + stalled.size()
                                + " clients were stalled mid-payload");
                    }
                }
            } finally {
                stalled.forEach(NbdTestClient::close);
                server.close();
            }
        }
    }

    /** A connection in transmission on {@code export} (fixed newstyle, NBD_OPT_GO, simple replies). */
    static NbdTestClient openGo(int port, String export) throws IOException {
        NbdTestClient c = NbdTestClient.connect(port);
        c.go(export);
        return c;
    }

    // =====================================================================================
    // the fuzzer
    // =====================================================================================

    enum Expect { VALID, INVALID, EITHER }

    /** One request as sent, with what the oracle allows as its answer. */
    static final class Req {
        int magic = REQUEST_MAGIC;
        int flags;
        int type;
        long handle;
        long offset;
        long length; // unsigned 32 bits
        byte[] payload;
        Expect expect = Expect.VALID;
        /** The client broke a MUST of the spec with it: the server may drop the connection instead of answering. */
        boolean breaksMust;
        final Set<Integer> errors = new HashSet<>();
        String why = "";

        boolean isWriteClass() {
            return type == CMD_WRITE || type == CMD_TRIM || type == CMD_WRITE_ZEROES;
        }

        byte[] header() {
            return ByteBuffer.allocate(28).putInt(magic).putShort((short) flags).putShort((short) type).putLong(handle)
                    .putLong(offset).putInt((int) length).array();
        }

        /** The bytes this request leaves in its range when it succeeds. */
        byte[] effect() {
            return type == CMD_WRITE ? payload : new byte[(int) length];
        }

        @Override
        public String toString() {
            return String.format("%s flags=0x%x handle=%x offset=%s length=%d expect=%s%s%s", commandName(type), flags, handle,
                    Long.toUnsignedString(offset), length, expect, errors.isEmpty() ? "" : " errors=" + errors, why.isEmpty() ? "" : " (" + why + ")");
        }
    }

    /** What the reply reader saw: a complete reply, the connection closing, or a protocol violation. */
    record Event(Req req, int error, String message, byte[] data, List<long[]> extents, int contextId, String violation, boolean closed) {
        static Event done(Req r, int error, String message, byte[] data, List<long[]> extents, int contextId) {
            return new Event(r, error, message, data, extents, contextId, null, false);
        }

        static Event violation(String what) {
            return new Event(null, 0, null, null, null, 0, what, false);
        }

        static Event closed(String how) {
            return new Event(null, 0, how, null, null, 0, null, true);
        }
    }

    /** Negotiation state of one connection during option haggling. */
    static final class Haggle {
        boolean noZeroes;
        boolean structured;
        /** 0: no context selected; 1: base:allocation selected for {@link #metaName}; 2: unknown (after a refused SET). */
        int metaState;
        String metaName;
        int contextId;
    }

    /** What the oracle makes of an export name: served writable, served read-only at a seq, refused, or either. */
    record Resolved(int kind, long seq) {
        static final int RW = 0;
        static final int RO = 1;
        static final int UNKNOWN = 2;
        static final int EITHER = 3;
    }

    /** A connection in transmission. */
    final class Tx {
        final NbdTestClient c;
        final String export;
        final long sizeBytes;
        final int flags;
        final boolean structured;
        /** 1: base:allocation negotiated; 0: not; 2: the spec leaves it open. */
        final int blockStatus;
        final int contextId;
        /** The image reads must return (null: not checkable), taken when the connection started. */
        final byte[] base;
        final ConcurrentHashMap<Long, Req> inflight = new ConcurrentHashMap<>();
        final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        final ConcurrentHashMap<Long, Partial> partials = new ConcurrentHashMap<>();
        final Thread reader;
        boolean closed;
        final int window;

        Tx(NbdTestClient c, String export, long sizeBytes, int flags, boolean structured, int blockStatus, int contextId, byte[] base, int window) {
            this.c = c;
            this.export = export;
            this.sizeBytes = sizeBytes;
            this.flags = flags;
            this.structured = structured;
            this.blockStatus = blockStatus;
            this.contextId = contextId;
            this.base = base;
            this.window = window;
            this.reader = new Thread(this::readReplies, "nbd-fuzz-reader");
            this.reader.setDaemon(true);
            try {
                c.socket.setSoTimeout(0); // the main thread times out on the event queue instead
            } catch (SocketException e) {
                throw new IllegalStateException(e);
            }
            reader.start();
        }

        boolean readOnly() {
            return (flags & TF_READ_ONLY) != 0;
        }

        private void readReplies() {
            DataInputStream in = c.in;
            try {
                for (;;) {
                    int magic;
                    try {
                        magic = in.readInt();
                    } catch (EOFException e) {
                        events.add(Event.closed("EOF"));
                        return;
                    }
                    if (magic == SIMPLE_REPLY_MAGIC) {
                        int error = in.readInt();
                        long handle = in.readLong();
                        Req r = inflight.get(handle);
                        if (r == null) {
                            events.add(Event.violation(String.format("simple reply (error %d) for handle %x, which is not in flight", error, handle)));
                            return;
                        }
                        if (structured && r.type == CMD_READ) {
                            events.add(Event.violation("simple reply to NBD_CMD_READ after structured replies were negotiated: " + r));
                            return;
                        }
                        byte[] data = null;
                        if (error == 0 && r.type == CMD_READ) {
                            if (r.length > MAX_BLOCK) {
                                events.add(Event.violation("success for a read over 32 MiB: " + r));
                                return;
                            }
                            data = new byte[(int) r.length];
                            in.readFully(data);
                        }
                        events.add(Event.done(r, error, null, data, null, 0));
                    } else if (magic == STRUCTURED_REPLY_MAGIC) {
                        int chunkFlags = in.readUnsignedShort();
                        int type = in.readUnsignedShort();
                        long handle = in.readLong();
                        long length = Integer.toUnsignedLong(in.readInt());
                        Req r = inflight.get(handle);
                        if (!structured) {
                            events.add(Event.violation("structured reply chunk without NBD_OPT_STRUCTURED_REPLY"));
                            return;
                        }
                        if (r == null) {
                            events.add(Event.violation(String.format("structured chunk type %d for handle %x, which is not in flight", type, handle)));
                            return;
                        }
                        if (length > r.length + 8 + 8 * 1024 + MAX_STRING + 64) {
                            events.add(Event.violation("structured chunk of " + length + " bytes for " + r));
                            return;
                        }
                        byte[] payload = new byte[(int) length];
                        in.readFully(payload);
                        Partial p = partials.computeIfAbsent(handle, h -> new Partial(r));
                        String bad = p.add(chunkFlags, type, payload);
                        if (bad == null && (chunkFlags & REPLY_FLAG_DONE) != 0) {
                            partials.remove(handle);
                            bad = p.finish(contextId);
                            if (bad == null) {
                                events.add(Event.done(r, p.error, p.message, p.error == 0 ? p.data : null, p.extents, p.contextId));
                            }
                        }
                        if (bad != null) {
                            events.add(Event.violation(bad + ": " + r));
                            return;
                        }
                    } else {
                        events.add(Event.violation(String.format("reply with unknown magic 0x%08x", magic)));
                        return;
                    }
                }
            } catch (IOException e) {
                events.add(Event.closed(e.toString()));
            } catch (RuntimeException e) {
                events.add(Event.violation("reply reader failed: " + e));
            }
        }
    }

    /** The chunks of one structured reply, checked as they come. */
    static final class Partial {
        final Req r;
        byte[] data;
        final List<long[]> covered = new ArrayList<>();
        final List<long[]> extents = new ArrayList<>();
        int error;
        String message;
        int contentChunks;
        int statusChunks;
        int contextId;

        Partial(Req r) {
            this.r = r;
        }

        /** Null if the chunk is fine, else what is wrong with it. */
        String add(int flags, int type, byte[] payload) {
            ByteBuffer p = ByteBuffer.wrap(payload);
            switch (type) {
                case RT_NONE -> {
                    if (payload.length != 0 || (flags & REPLY_FLAG_DONE) == 0) {
                        return "NBD_REPLY_TYPE_NONE with a payload or without NBD_REPLY_FLAG_DONE";
                    }
                }
                case RT_OFFSET_DATA, RT_OFFSET_HOLE -> {
                    if (r.type != CMD_READ) {
                        return "content chunk in the reply to a command that is not NBD_CMD_READ";
                    }
                    if (type == RT_OFFSET_DATA ? payload.length < 9 : payload.length != 12) {
                        return "content chunk of type " + type + " with a payload of " + payload.length + " bytes";
                    }
                    long off = p.getLong();
                    long len = type == RT_OFFSET_DATA ? payload.length - 8 : Integer.toUnsignedLong(p.getInt());
                    if (len == 0 || off < r.offset || off + len > r.offset + r.length) {
                        return "content chunk [" + off + ", +" + len + ") outside the request";
                    }
                    for (long[] c : covered) {
                        if (off < c[0] + c[1] && c[0] < off + len) {
                            return "content chunks overlap";
                        }
                    }
                    covered.add(new long[] {off, len});
                    if (data == null) {
                        if (r.length > MAX_BLOCK) {
                            return "content chunk for a read over 32 MiB, which should have been refused";
                        }
                        data = new byte[(int) r.length];
                    }
                    if (type == RT_OFFSET_DATA) {
                        p.get(data, (int) (off - r.offset), (int) len);
                    }
                    contentChunks++;
                    if ((r.flags & CF_DF) != 0 && contentChunks > 1) {
                        return "more than one content chunk although NBD_CMD_FLAG_DF was set";
                    }
                }
                case RT_BLOCK_STATUS -> {
                    if (r.type != CMD_BLOCK_STATUS) {
                        return "block status chunk in the reply to " + commandName(r.type);
                    }
                    if (payload.length < 12 || (payload.length - 4) % 8 != 0) {
                        return "block status chunk of " + payload.length + " bytes";
                    }
                    contextId = p.getInt();
                    statusChunks++;
                    while (p.hasRemaining()) {
                        long len = Integer.toUnsignedLong(p.getInt());
                        long status = Integer.toUnsignedLong(p.getInt());
                        if (len == 0) {
                            return "block status descriptor of length 0";
                        }
                        extents.add(new long[] {len, status});
                    }
                }
                case RT_ERROR, RT_ERROR_OFFSET -> {
                    if (payload.length < (type == RT_ERROR ? 6 : 14)) {
                        return "error chunk of " + payload.length + " bytes";
                    }
                    int e = p.getInt();
                    int messageLength = Short.toUnsignedInt(p.getShort());
                    if (e == 0 || messageLength > payload.length - (type == RT_ERROR ? 6 : 14)) {
                        return "error chunk with error " + e + " and message length " + messageLength + " in " + payload.length + " bytes";
                    }
                    byte[] text = new byte[messageLength];
                    p.get(text);
                    if (strictUtf8(text) == null) {
                        return "error chunk message is not UTF-8";
                    }
                    if (error == 0) {
                        error = e;
                        message = new String(text, StandardCharsets.UTF_8);
                    }
                }
                default -> {
                    return "structured reply chunk of unknown type " + type;
                }
            }
            return null;
        }

        String finish(int negotiatedContextId) {
            if (error != 0) {
                return null;
            }
            if (r.type == CMD_READ) {
                long sum = covered.stream().mapToLong(c -> c[1]).sum();
                if (sum != r.length) {
                    return "successful read reply covers " + sum + " of " + r.length + " bytes";
                }
                if (data == null) {
                    data = new byte[0];
                }
            } else if (r.type == CMD_BLOCK_STATUS) {
                long sum = extents.stream().mapToLong(e -> e[0]).sum();
                if (statusChunks != 1 || extents.isEmpty() || sum > r.length) {
                    return "block status reply with " + statusChunks + " chunk(s), " + extents.size() + " descriptor(s) covering " + sum
                            + " bytes for a request of " + r.length;
                }
                if ((r.flags & CF_REQ_ONE) != 0 && extents.size() != 1) {
                    return "block status reply with " + extents.size() + " descriptors although NBD_CMD_FLAG_REQ_ONE was set";
                }
                if (contextId != negotiatedContextId) {
                    return "block status for context " + contextId + ", negotiated " + negotiatedContextId;
                }
            } else if (contentChunks > 0 || statusChunks > 0) {
                return "data in the reply to " + commandName(r.type);
            }
            return null;
        }
    }

    /** One option as sent: magic, option, declared length and the data actually sent. */
    record Opt(long magic, int option, long declared, byte[] data, String why) {
        Opt(int option, byte[] data, String why) {
            this(IHAVEOPT, option, data.length, data, why);
        }

        byte[] header() {
            return ByteBuffer.allocate(16).putLong(magic).putInt(option).putInt((int) declared).array();
        }

        @Override
        public String toString() {
            return String.format("%s magic=%s declared=%d sent=%d (%s)", optionName(option), magic == IHAVEOPT ? "ok" : Long.toHexString(magic),
                    declared, data.length, why);
        }
    }

    /** What the oracle allows as the answer to an option. */
    static final class OptExpect {
        boolean mustClose;     // no reply: the server must drop the connection
        boolean mayClose;      // dropping the connection is also acceptable
        boolean success;       // a successful answer is acceptable
        final Set<Integer> errors = new HashSet<>();
        Resolved export;       // INFO/GO/EXPORT_NAME/META: how the name resolves
        List<String> queries = List.of();
        String why = "";

        static OptExpect error(String why, int... types) {
            OptExpect e = new OptExpect();
            for (int t : types) {
                e.errors.add(t);
            }
            e.why = why;
            return e;
        }

        static OptExpect close(String why) {
            OptExpect e = new OptExpect();
            e.mustClose = true;
            e.mayClose = true;
            e.why = why;
            return e;
        }

        static OptExpect ok(String why) {
            OptExpect e = new OptExpect();
            e.success = true;
            e.why = why;
            return e;
        }
    }

    /** The result of one option exchange. */
    record Step(boolean closed, Tx tx) {
        static final Step CONTINUE = new Step(false, null);
        static final Step CLOSED = new Step(true, null);
    }

    /** Bookkeeping of one client connection (one "batch"). */
    static final class Batch {
        final List<Req> applied = new ArrayList<>();
        final List<Req> maybe = new ArrayList<>();
        final List<long[]> writeRanges = new ArrayList<>();
        int ambiguousSeqs;

        boolean overlapsWrite(long off, long len) {
            for (long[] w : writeRanges) {
                if (off < w[0] + w[1] && w[0] < off + len) {
                    return true;
                }
            }
            return false;
        }
    }

    final class Fuzz {
        final Random rnd;
        final CapturedSet set;
        final BlockDevice device;
        final NbdServer server;
        final int port;
        final long size;
        final byte[] initial;
        byte[] model;
        final TreeMap<Long, byte[]> history = new TreeMap<>();
        long expectedSeq;
        int messages;
        /** Malformed or mutated messages among {@link #messages}: options, requests, client flags, cut-off or garbage traffic. */
        int bad;
        int connections;
        long nextHandle;
        Batch batch;
        final ArrayDeque<String> trace = new ArrayDeque<>();
        final TreeMap<String, Integer> stats = new TreeMap<>();
        /** Null: plain connections; else every haggled connection starts TLS with this first. */
        final javax.net.ssl.SSLContext tls;

        Fuzz(long seed, CapturedSet set, NbdServer server) throws IOException {
            this(seed, set, server, null);
        }

        Fuzz(long seed, CapturedSet set, NbdServer server, javax.net.ssl.SSLContext tls) throws IOException {
            this.tls = tls;
            this.rnd = new Random(seed);
            this.set = set;
            this.device = set.device("m0");
            this.server = server;
            this.port = server.port();
            this.size = device.sizeBytes();
            this.initial = readPrimary();
            this.model = initial.clone();
            this.expectedSeq = set.lastSeq();
            history.put(expectedSeq, initial.clone());
            this.nextHandle = rnd.nextLong();
        }

        String trace() {
            return String.join("\n", trace);
        }

        void note(String step) {
            trace.addLast(step);
            if (trace.size() > 40) {
                trace.removeFirst();
            }
        }

        void count(String what) {
            stats.merge(what, 1, Integer::sum);
        }

        void run(int target) throws Exception {
            while (bad < target) {
                connections++;
                batch = new Batch();
                int k = rnd.nextInt(100);
                long t0 = System.nanoTime();
                String kind;
                if (k < 40) {
                    kind = "haggle";
                    haggleConnection();
                } else if (k < 96) {
                    kind = "requests";
                    requestConnection();
                } else {
                    kind = "garbage";
                    garbageConnection();
                }
                long t1 = System.nanoTime();
                afterConnection();
                stats.merge("ms." + kind, (int) ((t1 - t0) / 1_000_000), Integer::sum);
                stats.merge("ms.afterConnection", (int) ((System.nanoTime() - t1) / 1_000_000), Integer::sum);
            }
        }

        // ---- after every connection: journal, primary, still serving ----

        void afterConnection() throws Exception {
            awaitNoTransmissionConnections();
            byte[] actual = readPrimary();
            for (Req r : batch.applied) {
                System.arraycopy(r.effect(), 0, model, (int) r.offset, (int) r.length);
            }
            long appliedMaybe = 0;
            long ambiguous = batch.ambiguousSeqs;
            for (Req r : batch.maybe) {
                byte[] after = r.effect();
                boolean isOld = Arrays.equals(actual, (int) r.offset, (int) (r.offset + r.length), model, (int) r.offset, (int) (r.offset + r.length));
                boolean isNew = Arrays.equals(actual, (int) r.offset, (int) (r.offset + r.length), after, 0, after.length);
                if (isOld && isNew) {
                    ambiguous++;
                } else if (isNew) {
                    appliedMaybe++;
                    System.arraycopy(after, 0, model, (int) r.offset, after.length);
                } else if (!isOld) {
                    throw new AssertionError("unanswered " + r + " left its range neither as it was nor as written");
                }
            }
            long low = expectedSeq + batch.applied.size() + appliedMaybe;
            long seq = set.lastSeq();
            if (seq < low || seq > low + ambiguous) {
                throw new AssertionError("lastSeq is " + seq + ", but the valid writes of this connection allow only " + low
                        + (ambiguous > 0 ? ".." + (low + ambiguous) : "") + " (was " + expectedSeq + "; " + batch.applied.size()
                        + " writes answered with success): something invalid reached the journal, or a valid write was lost");
            }
            expectedSeq = seq;
            int mismatch = Arrays.mismatch(actual, model);
            if (mismatch >= 0) {
                throw new AssertionError("the primary differs from the model at byte " + mismatch + " (primary " + actual[mismatch]
                        + ", model " + model[mismatch] + "): bytes changed outside the valid writes");
            }
            if (!history.containsKey(seq)) {
                history.put(seq, model.clone());
                while (history.size() > 12) {
                    Long[] keys = history.keySet().toArray(new Long[0]);
                    history.remove(keys[1 + rnd.nextInt(keys.length - 2)]);
                }
            }
            checkStillServing();
        }

        void awaitNoTransmissionConnections() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
            while (server.connectionCount("s") > 0) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(server.connectionCount("s") + " connection(s) still open on the server " + TIMEOUT_MS
                            + " ms after the client went away");
                }
                Thread.sleep(1);
            }
        }

        /** A fresh, plain, valid connection: GO, READ, DISC. */
        void checkStillServing() throws IOException {
            try (NbdTestClient c = NbdTestClient.raw(port, Duration.ofMillis(TIMEOUT_MS))) {
                DataInputStream in = c.in;
                if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) {
                    throw new AssertionError("bad greeting on a fresh connection");
                }
                in.readUnsignedShort();
                byte[] name = "s/m0".getBytes(StandardCharsets.UTF_8);
                c.out.writeInt(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
                c.out.write(new Opt(OPT_GO, ByteBuffer.allocate(6 + name.length).putInt(name.length).put(name).putShort((short) 0).array(), "check").header());
                c.out.write(ByteBuffer.allocate(6 + name.length).putInt(name.length).put(name).putShort((short) 0).array());
                c.out.flush();
                for (;;) {
                    long magic = in.readLong();
                    int opt = in.readInt();
                    int type = in.readInt();
                    byte[] data = new byte[in.readInt()];
                    in.readFully(data);
                    if (magic != OPTION_REPLY_MAGIC || opt != OPT_GO) {
                        throw new AssertionError("fresh connection: bad option reply");
                    }
                    if (type == REP_ACK) {
                        break;
                    }
                    if (type != REP_INFO) {
                        throw new AssertionError("fresh connection: NBD_OPT_GO s/m0 answered with reply type 0x" + Integer.toHexString(type) + " "
                                + new String(data, StandardCharsets.UTF_8));
                    }
                }
                int offset = rnd.nextInt((int) size - 4096);
                c.out.write(ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_READ).putLong(42)
                        .putLong(offset).putInt(4096).array());
                c.out.flush();
                if (in.readInt() != SIMPLE_REPLY_MAGIC || in.readInt() != 0 || in.readLong() != 42) {
                    throw new AssertionError("fresh connection: READ failed");
                }
                byte[] got = new byte[4096];
                in.readFully(got);
                if (!Arrays.equals(got, 0, 4096, model, offset, offset + 4096)) {
                    throw new AssertionError("fresh connection: READ at " + offset + " returned bytes other than the model's");
                }
                c.out.write(ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_DISC).putLong(43)
                        .putLong(0).putInt(0).array());
                c.out.flush();
                if (c.readToEnd().length != 0) {
                    throw new AssertionError("fresh connection: bytes after NBD_CMD_DISC");
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server stopped serving: a fresh valid connection timed out", e);
            } catch (IOException e) {
                throw new AssertionError("the server stopped serving: a fresh valid connection failed: " + e, e);
            }
        }

        // ---- connections ----

        void garbageConnection() throws IOException {
            count("connection.garbage");
            try (NbdTestClient c = NbdTestClient.raw(port, Duration.ofMillis(TIMEOUT_MS))) {
                int k = rnd.nextInt(4);
                if (k == 0) {
                    note("garbage: connect and reset at once");
                    messages++;
                    bad++;
                    c.reset();
                    return;
                }
                if (k >= 2) {
                    c.in.readFully(new byte[18]);
                }
                byte[] junk = randomBytes(1 + rnd.nextInt(rnd.nextBoolean() ? 32 : 4096));
                if (k == 3 && junk.length >= 4) {
                    ByteBuffer.wrap(junk).putInt(FLAG_C_FIXED_NEWSTYLE); // valid flags, then garbage where an option belongs
                }
                note("garbage: " + junk.length + " random bytes" + (k >= 2 ? " after the greeting" : " before reading the greeting"));
                messages++;
                bad++;
                c.trySend(junk);
                c.halfClose();
                c.readToEnd();
            }
        }

        /** A valid handshake of some kind, then many requests. */
        void requestConnection() throws Exception {
            count("connection.requests");
            NbdTestClient c = NbdTestClient.raw(port, Duration.ofMillis(TIMEOUT_MS));
            try {
                int hs = greeting(c);
                Haggle st = new Haggle();
                st.noZeroes = (hs & FLAG_NO_ZEROES) != 0 && rnd.nextBoolean();
                c.out.writeInt(FLAG_C_FIXED_NEWSTYLE | (st.noZeroes ? FLAG_C_NO_ZEROES : 0));
                messages++;
                c = secure(c);
                String name = pickExportName();
                boolean structured = rnd.nextInt(10) < 6;
                if (structured && exchange(c, st, new Opt(OPT_STRUCTURED_REPLY, new byte[0], "valid")).closed()) {
                    throw new AssertionError("server closed the connection after NBD_OPT_STRUCTURED_REPLY");
                }
                if (structured && rnd.nextInt(10) < 7) {
                    exchange(c, st, metaOption(true, name, List.of("base:allocation"), "valid"));
                }
                Step step = rnd.nextInt(5) == 0 ? exchange(c, st, exportNameOption(name, "valid")) : exchange(c, st, goOption(true, name, "valid"));
                if (step.tx() == null) {
                    throw new AssertionError("a valid handshake to " + name + " did not reach transmission");
                }
                long t0 = System.nanoTime();
                transmission(step.tx(), 100 + rnd.nextInt(rnd.nextInt(4) == 0 ? 2000 : 500), null);
                stats.merge("ms.transmission." + (step.tx().readOnly() ? "ro" : "rw"), (int) ((System.nanoTime() - t0) / 1_000_000), Integer::sum);
            } finally {
                c.close();
            }
        }

        String pickExportName() {
            int k = rnd.nextInt(100);
            if (k < 70) {
                return "s/m0";
            }
            if (k < 95) {
                Long[] seqs = history.tailMap(set.oldestSeq(), true).keySet().toArray(new Long[0]);
                if (seqs.length > 0) {
                    return "s/m0@" + seqs[rnd.nextInt(seqs.length)];
                }
            }
            return "s/m0@time:" + Instant.now();
        }

        /** Option haggling with many valid, invalid and mutated options, one at a time as the spec asks. */
        void haggleConnection() throws Exception {
            count("connection.haggle");
            NbdTestClient c = NbdTestClient.raw(port, Duration.ofMillis(TIMEOUT_MS));
            try {
                int hs = greeting(c);
                int k = rnd.nextInt(100);
                if (k < 4) {
                    int flags = (1 << (2 + rnd.nextInt(30))) | rnd.nextInt(4);
                    note(String.format("client flags 0x%08x (unknown bits)", flags));
                    messages++;
                    bad++;
                    c.trySend(ByteBuffer.allocate(4).putInt(flags).array());
                    expectDrop(c, "client flags with unknown bits");
                    return;
                }
                Haggle st = new Haggle();
                st.noZeroes = (hs & FLAG_NO_ZEROES) != 0 && rnd.nextBoolean();
                if (k < 8) {
                    // a client without NBD_FLAG_C_FIXED_NEWSTYLE may send only NBD_OPT_EXPORT_NAME
                    note("client flags without NBD_FLAG_C_FIXED_NEWSTYLE");
                    messages++;
                    c.out.writeInt(st.noZeroes ? FLAG_C_NO_ZEROES : 0);
                    Step step = exchange(c, st, exportNameOption("s/m0", "non-fixed newstyle client"));
                    if (step.tx() != null) {
                        transmission(step.tx(), rnd.nextInt(50), null);
                    }
                    return;
                }
                c.out.writeInt(FLAG_C_FIXED_NEWSTYLE | (st.noZeroes ? FLAG_C_NO_ZEROES : 0));
                messages++;
                c = secure(c);
                int n = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(40) : 1 + rnd.nextInt(600);
                for (int i = 0; i < n; i++) {
                    Step step = exchange(c, st, option(st));
                    if (step.closed()) {
                        return;
                    }
                    if (step.tx() != null) {
                        transmission(step.tx(), rnd.nextInt(300), null);
                        return;
                    }
                }
                int end = rnd.nextInt(100);
                Step step;
                if (end < 45) {
                    step = exchange(c, st, goOption(true, pickExportName(), "valid, to end haggling"));
                } else if (end < 60) {
                    step = exchange(c, st, exportNameOption(pickExportName(), "valid, to end haggling"));
                } else if (end < 70) {
                    step = exchange(c, st, exportNameOption(unknownName(), "unknown export"));
                } else if (end < 85) {
                    step = exchange(c, st, new Opt(OPT_ABORT, new byte[0], "valid"));
                } else {
                    Opt o = option(st);
                    int cut = rnd.nextInt(16 + o.data().length);
                    note("abrupt end after " + cut + " bytes of " + o);
                    messages++;
                    bad++;
                    byte[] all = concat(o.header(), o.data());
                    c.trySend(Arrays.copyOf(all, cut));
                    if (rnd.nextBoolean()) {
                        c.reset();
                    } else {
                        c.halfClose();
                        expectDrop(c, "an option cut off by the client going away");
                    }
                    return;
                }
                if (step.tx() != null) {
                    transmission(step.tx(), rnd.nextInt(200), null);
                }
            } finally {
                c.close();
            }
        }

        /** With TLS: NBD_OPT_STARTTLS, acknowledged, and the handshake; the client to go on with. */
        NbdTestClient secure(NbdTestClient c) throws IOException {
            if (tls == null) {
                return c;
            }
            note("STARTTLS and handshake");
            messages++;
            count("tls.handshake");
            return c.startTls(tls);
        }

        int greeting(NbdTestClient c) throws IOException {
            long m1 = c.in.readLong();
            long m2 = c.in.readLong();
            int flags = c.in.readUnsignedShort();
            if (m1 != NBDMAGIC || m2 != IHAVEOPT || (flags & FLAG_FIXED_NEWSTYLE) == 0 || (flags & ~(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)) != 0) {
                throw new AssertionError(String.format("bad greeting %x %x flags 0x%x", m1, m2, flags));
            }
            return flags;
        }

        void expectDrop(NbdTestClient c, String why) {
            byte[] got = c.readToEnd();
            if (got.length != 0) {
                throw new AssertionError("server sent " + got.length + " bytes instead of dropping the connection after " + why);
            }
        }

        // ---- options: generation ----

        Opt option(Haggle st) {
            int k = rnd.nextInt(1000);
            Opt o;
            if (k < 70) {
                o = new Opt(OPT_LIST, new byte[0], "valid");
            } else if (k < 110) {
                o = new Opt(OPT_STRUCTURED_REPLY, new byte[0], "valid");
            } else if (k < 260) {
                o = goOption(false, rnd.nextInt(3) == 0 ? unknownName() : pickExportName(), "INFO");
            } else if (k < 300) {
                o = goOption(true, unknownName(), "GO on an unknown export");
            } else if (k < 380) {
                o = metaOption(rnd.nextBoolean(), rnd.nextInt(4) == 0 ? unknownName() : pickExportName(), randomQueries(), "meta context");
            } else if (k < 420) {
                o = new Opt(OPT_STARTTLS, rnd.nextBoolean() ? new byte[0] : randomBytes(rnd.nextInt(64)), "STARTTLS");
            } else if (k < 560) {
                int opt;
                do {
                    opt = rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(64);
                } while (opt >= 1 && opt <= 10 && opt != 4);
                int len = rnd.nextInt(50) == 0 ? 65_536 + rnd.nextInt(200_000) : rnd.nextInt(300);
                if (rnd.nextInt(400) == 0) {
                    len = (int) MAX_BLOCK + 1 + rnd.nextInt(1 << 20); // over 32 MiB, sent in full: skipped, then refused
                }
                o = new Opt(opt, randomBytes(len), "unknown option with " + len + " bytes");
            } else if (k < 700) {
                o = malformedOption();
            } else if (k < 980) {
                do {
                    o = mutate(validOption()); // mostly keep the connection alive: many mutations end it
                } while (endsHaggling(st, o) && rnd.nextInt(10) != 0);
            } else if (k < 983) {
                o = new Opt(IHAVEOPT ^ (1L << rnd.nextInt(64)), OPT_LIST, 0, new byte[0], "bad option magic");
            } else if (k < 985) {
                byte[] name = switch (rnd.nextInt(3)) {
                    case 0 -> randomBytes(MAX_STRING + 1 + rnd.nextInt(10_000));
                    case 1 -> new byte[] {'s', '/', 'm', 0, '0'};
                    default -> new byte[] {'s', '/', (byte) 0xff, 'm', '0'};
                };
                o = new Opt(OPT_EXPORT_NAME, name, "EXPORT_NAME too long, with NUL, or not UTF-8");
            } else if (k < 990) {
                long declared = MAX_BLOCK + 1 + (rnd.nextLong() & 0x7fffffffL);
                o = new Opt(IHAVEOPT, rnd.nextBoolean() ? OPT_INFO : rnd.nextInt(1000) + 11, declared & 0xffffffffL,
                        randomBytes(rnd.nextInt(100)), "declares over 32 MiB, sends little, then goes away");
            } else {
                o = new Opt(OPT_ABORT, randomBytes(rnd.nextInt(3) == 0 ? rnd.nextInt(20) : 0), "ABORT");
            }
            return o;
        }

        /** Whether the answer to {@code o} ends option haggling: transmission, a drop, or an abort. */
        boolean endsHaggling(Haggle st, Opt o) {
            OptExpect e = expectFor(st, o);
            int opt = o.option();
            return e.mustClose || o.declared() != o.data().length || (e.success && (opt == OPT_GO || opt == OPT_EXPORT_NAME || opt == OPT_ABORT));
        }

        Opt validOption() {
            return switch (rnd.nextInt(rnd.nextInt(10) == 0 ? 6 : 4)) { // GO and EXPORT_NAME end haggling when they succeed
                case 0 -> new Opt(OPT_LIST, new byte[0], "valid");
                case 1 -> new Opt(OPT_STRUCTURED_REPLY, new byte[0], "valid");
                case 2 -> goOption(false, pickExportName(), "valid");
                case 3 -> metaOption(rnd.nextBoolean(), pickExportName(), List.of("base:allocation"), "valid");
                case 4 -> goOption(true, pickExportName(), "valid");
                default -> exportNameOption(pickExportName(), "valid");
            };
        }

        /** Flips 1 to 3 bits of a valid option (header or data), then frames the data by the declared length. */
        Opt mutate(Opt o) {
            byte[] all = concat(o.header(), o.data());
            int flips = 1 + rnd.nextInt(3);
            StringBuilder where = new StringBuilder();
            for (int i = 0; i < flips; i++) {
                int bit;
                if (rnd.nextBoolean() || all.length == 16) {
                    // the option number and length, now and then the magic (which ends the connection)
                    bit = rnd.nextInt(10) == 0 ? rnd.nextInt(64) : 64 + rnd.nextInt(64);
                } else {
                    bit = 16 * 8 + rnd.nextInt((all.length - 16) * 8);
                }
                all[bit / 8] ^= (byte) (1 << (bit % 8));
                where.append(where.length() == 0 ? "" : ",").append(bit);
            }
            ByteBuffer b = ByteBuffer.wrap(all);
            long magic = b.getLong();
            int opt = b.getInt();
            long declared = Integer.toUnsignedLong(b.getInt());
            byte[] rest = Arrays.copyOfRange(all, 16, all.length);
            byte[] data;
            if (declared <= rest.length) {
                data = Arrays.copyOf(rest, (int) declared);
            } else if (declared <= 300_000) {
                data = concat(rest, randomBytes((int) declared - rest.length));
            } else {
                data = rest; // declares more than it sends: the connection ends there
            }
            return new Opt(magic, opt, declared, data, "bits " + where + " flipped in a " + optionName(o.option()));
        }

        Opt malformedOption() {
            int k = rnd.nextInt(12);
            int opt = rnd.nextBoolean() ? OPT_INFO : OPT_GO;
            byte[] name = nameBytes(pickExportName());
            return switch (k) {
                case 0 -> new Opt(opt, randomBytes(rnd.nextInt(6)), "shorter than the 6 bytes of an empty request");
                case 1 -> new Opt(opt, ByteBuffer.allocate(6 + name.length).putInt(name.length + 1 + rnd.nextInt(100_000)).put(name)
                        .putShort((short) 0).array(), "name length beyond the data");
                case 2 -> new Opt(opt, ByteBuffer.allocate(6 + name.length).putInt(-1 - rnd.nextInt(1000)).put(name).putShort((short) 0).array(),
                        "name length near 2^32");
                case 3 -> new Opt(opt, ByteBuffer.allocate(8 + name.length).putInt(name.length).put(name).putShort((short) (2 + rnd.nextInt(100)))
                        .putShort((short) INFO_NAME).array(), "count of information requests larger than the data");
                case 4 -> new Opt(opt, ByteBuffer.allocate(9 + name.length).putInt(name.length).put(name).putShort((short) 1)
                        .putShort((short) INFO_NAME).put((byte) 0).array(), "a byte after the information requests");
                case 5 -> {
                    byte[] longName = new byte[MAX_STRING + 1 + rnd.nextInt(3000)];
                    Arrays.fill(longName, (byte) 'a');
                    yield new Opt(opt, ByteBuffer.allocate(6 + longName.length).putInt(longName.length).put(longName).putShort((short) 0).array(),
                            "export name longer than 4096 bytes");
                }
                case 6 -> {
                    byte[] bad = {'s', '/', (byte) 0xC3, (byte) 0x28};
                    yield new Opt(opt, ByteBuffer.allocate(6 + bad.length).putInt(bad.length).put(bad).putShort((short) 0).array(), "name not UTF-8");
                }
                case 7 -> {
                    byte[] nul = {'s', '/', 'm', 0, '0'};
                    yield new Opt(opt, ByteBuffer.allocate(6 + nul.length).putInt(nul.length).put(nul).putShort((short) 0).array(), "name with NUL");
                }
                case 8 -> {
                    int count = 32_000 + rnd.nextInt(30_000);
                    ByteBuffer b = ByteBuffer.allocate(6 + name.length + 2 * count).putInt(name.length).put(name).putShort((short) count);
                    while (b.hasRemaining()) {
                        b.putShort((short) rnd.nextInt(8));
                    }
                    yield new Opt(opt, b.array(), "well formed with " + count + " information requests (over 64 KiB)");
                }
                case 9 -> new Opt(OPT_LIST, randomBytes(1 + rnd.nextInt(100)), "LIST with data");
                case 10 -> new Opt(OPT_STRUCTURED_REPLY, randomBytes(1 + rnd.nextInt(100)), "STRUCTURED_REPLY with data");
                default -> {
                    int mk = rnd.nextInt(4);
                    int mopt = rnd.nextBoolean() ? OPT_LIST_META_CONTEXT : OPT_SET_META_CONTEXT;
                    byte[] data = switch (mk) {
                        case 0 -> randomBytes(rnd.nextInt(8));
                        case 1 -> ByteBuffer.allocate(8 + name.length).putInt(name.length).put(name).putInt(1 + rnd.nextInt(1000)).array();
                        case 2 -> ByteBuffer.allocate(12 + name.length).putInt(name.length).put(name).putInt(1).putInt(100).array();
                        default -> ByteBuffer.allocate(9 + name.length).putInt(name.length).put(name).putInt(0).put((byte) 1).array();
                    };
                    yield new Opt(mopt, data, "malformed meta context request " + mk);
                }
            };
        }

        Opt goOption(boolean go, String name, String why) {
            byte[] n = nameBytes(name);
            int count = rnd.nextInt(5);
            ByteBuffer b = ByteBuffer.allocate(6 + n.length + 2 * count).putInt(n.length).put(n).putShort((short) count);
            for (int i = 0; i < count; i++) {
                b.putShort((short) (rnd.nextInt(5) == 0 ? rnd.nextInt(65536) : rnd.nextInt(4)));
            }
            return new Opt(go ? OPT_GO : OPT_INFO, b.array(), why + " " + name);
        }

        Opt exportNameOption(String name, String why) {
            return new Opt(OPT_EXPORT_NAME, nameBytes(name), why + " " + name);
        }

        Opt metaOption(boolean set, String name, List<String> queries, String why) {
            byte[] n = nameBytes(name);
            int len = 8 + n.length;
            for (String q : queries) {
                len += 4 + nameBytes(q).length;
            }
            ByteBuffer b = ByteBuffer.allocate(len).putInt(n.length).put(n).putInt(queries.size());
            for (String q : queries) {
                b.putInt(nameBytes(q).length).put(nameBytes(q));
            }
            return new Opt(set ? OPT_SET_META_CONTEXT : OPT_LIST_META_CONTEXT, b.array(), why + " " + name + " " + queries);
        }

        List<String> randomQueries() {
            String[] pool = {"base:allocation", "base:", "x-rewind:nothing", "qemu:dirty-bitmap:a", "base:allocation2", "", "nbd-server:x"};
            int n = rnd.nextInt(4);
            List<String> q = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                q.add(pool[rnd.nextInt(pool.length)]);
            }
            return q;
        }

        String unknownName() {
            String[] pool = {"", "s", "s/", "/m0", "s/m1", "t/m0", "S/M0", "s/m0/", "s/m0 ", " s/m0", "s/m0@", "s/m0@-1", "s/m0@x",
                    "s/m0@bookmark:nope", "s/m0@bookmark:", "s/m0@time:yesterday", "s/m0@time:1970-01-01T00:00:00Z",
                    "s/m0@99999999999999999999999", "s/m0@@0", "s/m0@0x1", "s/m0@" + (set.lastSeq() + 1 + rnd.nextInt(1000)),
                    "s/m0\u00e9", "\u65e5\u672c/m0", "s/m0@\u0661"};
            return pool[rnd.nextInt(pool.length)];
        }

        // ---- options: the oracle ----

        Resolved resolve(String name) {
            if (name.equals("s/m0")) {
                return new Resolved(Resolved.RW, -1);
            }
            if (!name.startsWith("s/m0@")) {
                return new Resolved(Resolved.UNKNOWN, -1);
            }
            String point = name.substring(5);
            if (!point.isEmpty() && point.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
                BigInteger seq = new BigInteger(point);
                boolean ok = seq.compareTo(BigInteger.valueOf(set.lastSeq())) <= 0 && seq.compareTo(BigInteger.valueOf(set.oldestSeq())) >= 0;
                return new Resolved(ok ? Resolved.RO : Resolved.UNKNOWN, ok ? seq.longValue() : -1);
            }
            if (point.startsWith("time:")) {
                return new Resolved(Resolved.EITHER, -1);
            }
            return new Resolved(Resolved.UNKNOWN, -1); // including bookmarks: this server has none
        }

        OptExpect expectFor(Haggle st, Opt o) {
            if (o.magic() != IHAVEOPT) {
                return OptExpect.close("bad option magic");
            }
            byte[] data = o.data();
            long len = o.declared();
            if (len != data.length) {
                // declares more than is sent: whatever the option, the server is left waiting for the rest, then sees the end
                OptExpect e = OptExpect.close("declared " + len + " bytes, sent " + data.length);
                e.mustClose = false;
                e.errors.addAll(List.of(REP_ERR_TOO_BIG, REP_ERR_INVALID, REP_ERR_UNSUP));
                return e;
            }
            switch (o.option()) {
                case OPT_EXPORT_NAME -> {
                    if (len > MAX_STRING) {
                        return OptExpect.close("export name longer than 4096 bytes");
                    }
                    String name = strictUtf8(data);
                    if (name == null || name.indexOf('\0') >= 0) {
                        return OptExpect.close("export name not UTF-8");
                    }
                    Resolved r = resolve(name);
                    if (r.kind() == Resolved.UNKNOWN) {
                        return OptExpect.close("unknown export " + name);
                    }
                    OptExpect e = OptExpect.ok("export " + name);
                    e.export = r;
                    e.mayClose = r.kind() == Resolved.EITHER;
                    return e;
                }
                case OPT_ABORT -> {
                    OptExpect e = OptExpect.ok("abort");
                    e.mayClose = true;
                    return e;
                }
                case OPT_LIST -> {
                    return len == 0 ? OptExpect.ok("list") : OptExpect.error("LIST with data", REP_ERR_INVALID);
                }
                case OPT_STARTTLS -> {
                    return tls != null ? OptExpect.error("TLS already running", REP_ERR_INVALID)
                            : OptExpect.error("no TLS", REP_ERR_UNSUP, REP_ERR_POLICY, REP_ERR_INVALID);
                }
                case OPT_STRUCTURED_REPLY -> {
                    if (len != 0) {
                        return OptExpect.error("STRUCTURED_REPLY with data", REP_ERR_INVALID);
                    }
                    OptExpect e = OptExpect.ok("structured replies");
                    if (st.structured) {
                        e.errors.add(REP_ERR_INVALID);
                    }
                    return e;
                }
                case OPT_INFO, OPT_GO -> {
                    return expectInfo(o, data);
                }
                case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> {
                    return expectMeta(st, o, data);
                }
                default -> {
                    return OptExpect.error("unknown option", REP_ERR_UNSUP);
                }
            }
        }

        OptExpect expectInfo(Opt o, byte[] data) {
            ByteBuffer d = ByteBuffer.wrap(data);
            OptExpect e;
            if (data.length < 6) {
                e = OptExpect.error("shorter than 6 bytes", REP_ERR_INVALID);
            } else {
                long nameLength = Integer.toUnsignedLong(d.getInt());
                if (nameLength > data.length - 6) {
                    e = OptExpect.error("name length beyond the data", REP_ERR_INVALID);
                } else {
                    byte[] nb = new byte[(int) nameLength];
                    d.get(nb);
                    String name = strictUtf8(nb);
                    int count = Short.toUnsignedInt(d.getShort());
                    if (name == null || name.indexOf('\0') >= 0) {
                        e = OptExpect.error("name not UTF-8", REP_ERR_INVALID);
                    } else if (d.remaining() != 2 * count) {
                        e = OptExpect.error("information requests do not match the data", REP_ERR_INVALID);
                    } else if (nameLength > MAX_STRING) {
                        e = OptExpect.error("name longer than 4096 bytes", REP_ERR_INVALID, REP_ERR_UNKNOWN);
                    } else {
                        Resolved r = resolve(name);
                        if (r.kind() == Resolved.UNKNOWN) {
                            e = OptExpect.error("unknown export " + name, REP_ERR_UNKNOWN);
                        } else {
                            e = OptExpect.ok("export " + name);
                            e.export = r;
                            if (r.kind() == Resolved.EITHER) {
                                e.errors.addAll(List.of(REP_ERR_UNKNOWN, REP_ERR_INVALID));
                            }
                        }
                    }
                }
            }
            if (data.length > 65_536) {
                e.errors.add(REP_ERR_TOO_BIG); // a server may refuse option data it thinks too large
            }
            return e;
        }

        OptExpect expectMeta(Haggle st, Opt o, byte[] data) {
            boolean set = o.option() == OPT_SET_META_CONTEXT;
            ByteBuffer d = ByteBuffer.wrap(data);
            OptExpect e = null;
            String name = null;
            List<String> queries = new ArrayList<>();
            if (data.length < 8) {
                e = OptExpect.error("shorter than 8 bytes", REP_ERR_INVALID);
            } else {
                long nameLength = Integer.toUnsignedLong(d.getInt());
                if (nameLength > d.remaining() - 4) {
                    e = OptExpect.error("name length beyond the data", REP_ERR_INVALID);
                } else {
                    byte[] nb = new byte[(int) nameLength];
                    d.get(nb);
                    name = strictUtf8(nb);
                    long count = Integer.toUnsignedLong(d.getInt());
                    if (name == null || name.indexOf('\0') >= 0) {
                        e = OptExpect.error("name not UTF-8", REP_ERR_INVALID);
                    } else if (count > d.remaining() / 4) {
                        e = OptExpect.error("more queries than fit", REP_ERR_INVALID);
                    } else {
                        for (long i = 0; i < count && e == null; i++) {
                            if (d.remaining() < 4) {
                                e = OptExpect.error("query cut off", REP_ERR_INVALID);
                                break;
                            }
                            long ql = Integer.toUnsignedLong(d.getInt());
                            if (ql > d.remaining()) {
                                e = OptExpect.error("query beyond the data", REP_ERR_INVALID);
                                break;
                            }
                            byte[] qb = new byte[(int) ql];
                            d.get(qb);
                            String q = strictUtf8(qb);
                            if (q == null || q.indexOf('\0') >= 0 || ql > MAX_STRING) {
                                e = OptExpect.error("query not a valid string", REP_ERR_INVALID);
                            } else {
                                queries.add(q);
                            }
                        }
                        if (e == null && d.hasRemaining()) {
                            e = OptExpect.error("bytes after the last query", REP_ERR_INVALID);
                        }
                    }
                }
            }
            if (e == null) {
                Resolved r = resolve(name);
                if (r.kind() == Resolved.UNKNOWN) {
                    e = OptExpect.error("unknown export " + name, REP_ERR_UNKNOWN);
                } else {
                    e = OptExpect.ok("contexts of " + name);
                    e.export = r;
                    e.queries = queries;
                    if (r.kind() == Resolved.EITHER) {
                        e.errors.addAll(List.of(REP_ERR_UNKNOWN, REP_ERR_INVALID));
                    }
                }
                if (Integer.toUnsignedLong(ByteBuffer.wrap(data).getInt()) > MAX_STRING) {
                    e.errors.add(REP_ERR_INVALID);
                }
            }
            if (!st.structured) {
                // the spec: SHOULD be refused with NBD_REP_ERR_INVALID before structured replies are negotiated
                if (set) {
                    e.success = false;
                }
                e.errors.add(REP_ERR_INVALID);
            }
            if (data.length > 65_536) {
                e.errors.add(REP_ERR_TOO_BIG);
            }
            return e;
        }

        // ---- options: the exchange ----

        /** Sends one option, reads its answer and checks it against the oracle. */
        Step exchange(NbdTestClient c, Haggle st, Opt o) throws IOException {
            OptExpect exp = expectFor(st, o);
            note("option " + o + " -> expect " + (exp.mustClose ? "close" : (exp.success ? "success " : "") + exp.errors) + " (" + exp.why + ")");
            messages++;
            if (exp.mustClose || !exp.success || !exp.errors.isEmpty() || o.why().startsWith("bits ")) {
                bad++;
            }
            count("option." + (exp.mustClose ? "close" : exp.success ? (exp.errors.isEmpty() ? "valid" : "either") : "invalid"));
            if (o.option() == OPT_SET_META_CONTEXT && o.magic() == IHAVEOPT && o.declared() == o.data().length) {
                st.metaState = exp.success && exp.errors.isEmpty() ? 0 : 2; // replaced by this request; decided below if it succeeds
                st.metaName = null;
            }
            boolean sent = c.trySend(o.header(), o.data());
            if (o.declared() != o.data().length) {
                c.halfClose();
            }
            if (exp.mustClose || o.declared() != o.data().length) {
                byte[] got = c.readToEnd();
                checkRepliesBeforeDrop(o, exp, got);
                return Step.CLOSED;
            }
            if (!sent && !exp.mayClose) {
                throw new AssertionError("server closed the connection while " + o + " was being sent");
            }
            if (o.option() == OPT_EXPORT_NAME) {
                return exportNameReply(c, st, o, exp);
            }
            List<String> listed = new ArrayList<>();
            List<String> contexts = new ArrayList<>();
            long[] export = null;
            int contextId = 0;
            for (;;) {
                long magic;
                try {
                    magic = c.in.readLong();
                } catch (EOFException | SocketException e) {
                    if (exp.mayClose) {
                        return Step.CLOSED;
                    }
                    throw new AssertionError("server closed the connection instead of answering " + o);
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("no answer to " + o + " within " + TIMEOUT_MS + " ms");
                }
                int opt = c.in.readInt();
                int type = c.in.readInt();
                long length = Integer.toUnsignedLong(c.in.readInt());
                if (magic != OPTION_REPLY_MAGIC || opt != o.option() || length > 1 << 20) {
                    throw new AssertionError(String.format("bad option reply: magic %x option %d length %d to %s", magic, opt, length, o));
                }
                byte[] data = new byte[(int) length];
                c.in.readFully(data);
                ByteBuffer d = ByteBuffer.wrap(data);
                if (type < 0) { // an error (bit 31)
                    if (!exp.errors.contains(type)) {
                        throw new AssertionError(String.format("%s answered with error 0x%08x (%s), expected %s", o, type,
                                new String(data, StandardCharsets.UTF_8), exp.success && exp.errors.isEmpty() ? "success" : hex(exp.errors)));
                    }
                    if (strictUtf8(data) == null || data.length > MAX_STRING) {
                        throw new AssertionError("error message is not a valid string: " + o);
                    }
                    count("option.error." + Integer.toHexString(type));
                    if (o.option() == OPT_ABORT) {
                        return Step.CLOSED;
                    }
                    return Step.CONTINUE;
                }
                if (!exp.success) {
                    throw new AssertionError(String.format("%s should be refused with %s, got reply type %d", o, hex(exp.errors), type));
                }
                switch (type) {
                    case REP_ACK -> {
                        if (length != 0) {
                            throw new AssertionError("NBD_REP_ACK with data");
                        }
                        return afterAck(c, st, o, exp, listed, contexts, export, contextId);
                    }
                    case REP_SERVER -> {
                        if (o.option() != OPT_LIST || length < 4) {
                            throw new AssertionError("NBD_REP_SERVER in answer to " + o);
                        }
                        long nl = Integer.toUnsignedLong(d.getInt());
                        if (nl > length - 4) {
                            throw new AssertionError("NBD_REP_SERVER name length beyond the reply");
                        }
                        byte[] nb = new byte[(int) nl];
                        d.get(nb);
                        listed.add(strictUtf8(nb));
                    }
                    case REP_INFO -> {
                        if ((o.option() != OPT_INFO && o.option() != OPT_GO) || length < 2) {
                            throw new AssertionError("NBD_REP_INFO in answer to " + o);
                        }
                        int info = Short.toUnsignedInt(d.getShort());
                        if (info == INFO_EXPORT) {
                            if (length != 12) {
                                throw new AssertionError("NBD_INFO_EXPORT of " + length + " bytes");
                            }
                            export = new long[] {d.getLong(), Short.toUnsignedInt(d.getShort())};
                        } else if (info == INFO_BLOCK_SIZE) {
                            if (length != 14) {
                                throw new AssertionError("NBD_INFO_BLOCK_SIZE of " + length + " bytes");
                            }
                            long min = Integer.toUnsignedLong(d.getInt());
                            long pref = Integer.toUnsignedLong(d.getInt());
                            long max = Integer.toUnsignedLong(d.getInt());
                            if (min < 1 || Long.bitCount(min) != 1 || pref < min || Long.bitCount(pref) != 1 || max < pref) {
                                throw new AssertionError("NBD_INFO_BLOCK_SIZE min " + min + " preferred " + pref + " max " + max);
                            }
                        } else if ((info == INFO_NAME || info == INFO_DESCRIPTION) && strictUtf8(Arrays.copyOfRange(data, 2, data.length)) == null) {
                            throw new AssertionError("NBD_INFO_NAME/DESCRIPTION not UTF-8");
                        }
                    }
                    case REP_META_CONTEXT -> {
                        if ((o.option() != OPT_LIST_META_CONTEXT && o.option() != OPT_SET_META_CONTEXT) || length < 5) {
                            throw new AssertionError("NBD_REP_META_CONTEXT in answer to " + o);
                        }
                        contextId = d.getInt();
                        contexts.add(strictUtf8(Arrays.copyOfRange(data, 4, data.length)));
                    }
                    default -> throw new AssertionError("unknown option reply type " + type + " to " + o);
                }
            }
        }

        void checkRepliesBeforeDrop(Opt o, OptExpect exp, byte[] got) {
            ByteBuffer b = ByteBuffer.wrap(got);
            while (b.remaining() >= 20) {
                long magic = b.getLong();
                int opt = b.getInt();
                int type = b.getInt();
                int length = b.getInt();
                boolean allowed = magic == OPTION_REPLY_MAGIC && opt == o.option()
                        && (exp.errors.contains(type) || (o.option() == OPT_ABORT && type == REP_ACK));
                if (!allowed || length < 0 || length > b.remaining()) {
                    throw new AssertionError("unexpected answer (type " + type + ") before the server dropped the connection after " + o);
                }
                b.position(b.position() + length);
            }
            if (b.hasRemaining()) {
                throw new AssertionError(got.length + " unexpected bytes before the server dropped the connection after " + o);
            }
            count("option.dropped");
        }

        Step exportNameReply(NbdTestClient c, Haggle st, Opt o, OptExpect exp) throws IOException {
            long sizeBytes;
            try {
                sizeBytes = c.in.readLong();
            } catch (EOFException | SocketException e) {
                if (exp.mayClose) {
                    return Step.CLOSED;
                }
                throw new AssertionError("server dropped the connection after " + o);
            }
            int flags = c.in.readUnsignedShort();
            if (!st.noZeroes) {
                byte[] zeroes = new byte[124];
                c.in.readFully(zeroes);
                if (!Arrays.equals(zeroes, new byte[124])) {
                    throw new AssertionError("the 124 reserved bytes after NBD_OPT_EXPORT_NAME are not zero");
                }
            }
            return new Step(false, startTransmission(c, st, o, exp.export, sizeBytes, flags));
        }

        Step afterAck(NbdTestClient c, Haggle st, Opt o, OptExpect exp, List<String> listed, List<String> contexts, long[] export, int contextId)
                throws IOException {
            switch (o.option()) {
                case OPT_LIST -> {
                    if (!listed.equals(List.of("s/m0"))) {
                        throw new AssertionError("NBD_OPT_LIST listed " + listed + ", expected [s/m0]");
                    }
                }
                case OPT_STRUCTURED_REPLY -> st.structured = true;
                case OPT_ABORT -> {
                    return Step.CLOSED;
                }
                case OPT_INFO, OPT_GO -> {
                    if (export == null) {
                        throw new AssertionError("successful " + o + " without NBD_INFO_EXPORT");
                    }
                    if (o.option() == OPT_GO) {
                        return new Step(false, startTransmission(c, st, o, exp.export, export[0], (int) export[1]));
                    }
                    checkExportInfo(o, exp.export, export[0], (int) export[1], st.structured);
                }
                case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> {
                    boolean set = o.option() == OPT_SET_META_CONTEXT;
                    boolean asked = exp.queries.contains("base:allocation") || (!set && exp.queries.isEmpty());
                    boolean mayAsk = asked || exp.queries.contains("base:");
                    for (String ctx : contexts) {
                        if (!"base:allocation".equals(ctx) || !mayAsk) {
                            throw new AssertionError("context " + ctx + " returned for queries " + exp.queries);
                        }
                    }
                    if (asked && contexts.isEmpty()) {
                        throw new AssertionError("base:allocation not returned for queries " + exp.queries + " of " + o);
                    }
                    if (set) {
                        st.metaState = contexts.isEmpty() ? 0 : 1;
                        st.metaName = contexts.isEmpty() ? null : nameOf(o);
                        st.contextId = contextId;
                    }
                }
                default -> throw new AssertionError("NBD_REP_ACK to " + o + ", which the server should not know");
            }
            return Step.CONTINUE;
        }

        String nameOf(Opt o) {
            ByteBuffer d = ByteBuffer.wrap(o.data());
            byte[] nb = new byte[d.getInt()];
            d.get(nb);
            return new String(nb, StandardCharsets.UTF_8);
        }

        void checkExportInfo(Object o, Resolved r, long sizeBytes, int flags, boolean structured) {
            if (sizeBytes != size) {
                throw new AssertionError("export size " + sizeBytes + ", expected " + size + " for " + o);
            }
            if ((flags & TF_HAS_FLAGS) == 0) {
                throw new AssertionError("transmission flags without NBD_FLAG_HAS_FLAGS for " + o);
            }
            if (r.kind() != Resolved.EITHER && ((flags & TF_READ_ONLY) != 0) != (r.kind() == Resolved.RO)) {
                throw new AssertionError("NBD_FLAG_READ_ONLY is " + ((flags & TF_READ_ONLY) != 0) + " for " + o);
            }
            if ((flags & TF_SEND_DF) != 0 && !structured) {
                throw new AssertionError("NBD_FLAG_SEND_DF without structured replies for " + o);
            }
        }

        Tx startTransmission(NbdTestClient c, Haggle st, Opt o, Resolved r, long sizeBytes, int flags) {
            checkExportInfo(o, r, sizeBytes, flags, st.structured);
            String name = o.option() == OPT_EXPORT_NAME ? new String(o.data(), StandardCharsets.UTF_8) : nameOf(o);
            int bs = !st.structured ? 0 : st.metaState == 1 && name.equals(st.metaName) ? 1 : st.metaState == 0 ? 0 : 2;
            if (bs == 0 && st.structured && st.metaState == 1) {
                bs = 2; // contexts selected for another export: the spec does not say
            }
            byte[] base = switch (r.kind()) {
                case Resolved.RW -> model; // changed only between connections
                case Resolved.RO -> history.get(r.seq());
                default -> null;
            };
            note("transmission on " + name + String.format(" flags 0x%x structured=%s blockStatus=%d", flags, st.structured, bs));
            count("transmission." + (r.kind() == Resolved.RW ? "rw" : "ro"));
            return new Tx(c, name, sizeBytes, flags, st.structured, bs, st.contextId, base, 1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 8 : 100));
        }

        // ---- transmission ----

        void transmission(Tx tx, int count, Req fatal) throws IOException {
            try {
                for (int i = 0; i < count && !tx.closed; i++) {
                    Req r = request(tx);
                    if (r == null) {
                        continue;
                    }
                    if (r.magic != REQUEST_MAGIC || (r.type == CMD_WRITE && r.length > MAX_BLOCK) || r.type == CMD_DISC) {
                        fatal = r; // a mutation made a request the connection cannot survive: it ends the connection
                        break;
                    }
                    send(tx, r);
                }
                if (!tx.closed) {
                    end(tx, fatal);
                } else {
                    unexpectedClose(tx, "while requests were being sent");
                }
            } finally {
                tx.c.close();
                try {
                    tx.reader.join(TIMEOUT_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        void send(Tx tx, Req r) throws IOException {
            while (tx.inflight.size() >= tx.window && !tx.closed) {
                tx.c.out.flush();
                handle(tx, poll(tx));
            }
            if (tx.closed) {
                return;
            }
            while (!tx.events.isEmpty()) {
                handle(tx, tx.events.poll());
            }
            if (r.isWriteClass() && r.expect != Expect.INVALID) {
                batch.writeRanges.add(new long[] {r.offset, r.length});
            }
            while (tx.inflight.containsKey(r.handle)) {
                r.handle = nextHandle++; // a flipped handle may equal one in flight; the spec asks for distinct handles
            }
            tx.inflight.put(r.handle, r);
            messages++;
            if (r.expect != Expect.VALID || r.why.startsWith("bits ")) {
                bad++;
            }
            count("request." + r.expect);
            note("request " + r);
            try {
                tx.c.out.write(r.header());
                if (r.type == CMD_WRITE && r.length > 0) {
                    tx.c.out.write(r.payload);
                }
                if (rnd.nextInt(8) == 0) {
                    tx.c.out.flush();
                }
            } catch (IOException e) {
                // the server went away; the reader reports it
                drainUntilClosed(tx);
            }
        }

        Event poll(Tx tx) {
            try {
                Event e = tx.events.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                if (e == null) {
                    throw new AssertionError("no reply within " + TIMEOUT_MS + " ms; " + tx.inflight.size() + " request(s) in flight, e.g. "
                            + tx.inflight.values().stream().limit(3).toList());
                }
                return e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        void drainUntilClosed(Tx tx) {
            while (!tx.closed) {
                handle(tx, poll(tx));
            }
        }

        /** Waits for the replies to everything in flight. */
        void drain(Tx tx) {
            try {
                tx.c.out.flush();
            } catch (IOException e) {
                // the server went away: the reader reports it
            }
            while (!tx.inflight.isEmpty() && !tx.closed) {
                handle(tx, poll(tx));
            }
            if (tx.closed && !tx.inflight.isEmpty()) {
                unexpectedClose(tx, "while the client waited for replies");
            }
        }

        void handle(Tx tx, Event e) {
            if (e.violation() != null) {
                throw new AssertionError("protocol violation by the server: " + e.violation());
            }
            if (e.closed()) {
                tx.closed = true;
                return;
            }
            Req r = e.req();
            if (tx.inflight.remove(r.handle) == null) {
                throw new AssertionError("a second reply for " + r);
            }
            int error = e.error();
            if (error != 0 && !SPEC_ERRORS.contains(error)) {
                throw new AssertionError("error " + error + " is not an error the spec names; reply to " + r);
            }
            boolean ok = switch (r.expect) {
                case VALID -> error == 0;
                case INVALID -> error != 0 && r.errors.contains(error);
                case EITHER -> error == 0 || r.errors.contains(error);
            };
            if (!ok) {
                throw new AssertionError((error == 0 ? "success" : "error " + error + " (" + e.message() + ")") + " in reply to " + r
                        + " on " + tx.export);
            }
            count(error == 0 ? "reply.ok" : "reply.error." + error);
            if (error != 0) {
                return;
            }
            if (r.isWriteClass()) {
                if (r.length > 0) {
                    batch.applied.add(r);
                } else {
                    batch.ambiguousSeqs++;
                }
            } else if (r.type == CMD_READ && r.length > 0) {
                if (e.data() == null || e.data().length != r.length) {
                    throw new AssertionError("read reply without its data: " + r);
                }
                checkRead(tx, r, e.data());
            }
        }

        /**
         * Compares a successful read with the image the export shows, unless a write sent on this
         * connection before the read's reply arrived may overlap it (then its bytes are undefined).
         */
        void checkRead(Tx tx, Req r, byte[] data) {
            if (tx.base == null || (!tx.readOnly() && batch.overlapsWrite(r.offset, r.length))) {
                count("read.unchecked");
                return;
            }
            int off = (int) r.offset;
            int mismatch = Arrays.mismatch(data, 0, data.length, tx.base, off, off + data.length);
            if (mismatch >= 0) {
                throw new AssertionError("read of " + tx.export + " at " + r.offset + " (" + r.length + " bytes) differs from the model at byte "
                        + (r.offset + mismatch));
            }
            count("read.checked");
        }

        /**
         * The server dropped the connection with requests in flight. The spec lets it do so when the
         * client broke a MUST; a request that is merely out of range or a write to a read-only
         * export must be answered with an error (ENOSPC, EPERM) instead.
         */
        void unexpectedClose(Tx tx, String when) {
            boolean violation = tx.inflight.values().stream().anyMatch(r -> r.breaksMust);
            if (!violation) {
                throw new AssertionError("server dropped the connection " + when + " although no request in flight broke a MUST of the spec: "
                        + tx.inflight.values().stream().limit(3).toList());
            }
            count("connection.droppedOnInvalid");
            for (Req r : tx.inflight.values()) {
                if (r.isWriteClass() && r.expect != Expect.INVALID) {
                    batch.maybe.add(r);
                }
            }
            tx.inflight.clear();
        }

        void end(Tx tx, Req fatal) throws IOException {
            int k = fatal != null ? -1 : rnd.nextInt(100);
            if (k < 0) {
                drain(tx);
                note("ending with " + fatal);
                count("end.mutatedFatal");
                messages++;
                bad++;
                fatal.expect = Expect.INVALID;
                fatal.errors.addAll(List.of(EINVAL, EOVERFLOW, ENOMEM, ENOSPC));
                if (fatal.type == CMD_DISC) {
                    tx.c.trySend(fatal.header()); // DISC with odd flags, offset or length: still the end
                } else {
                    tx.inflight.put(fatal.handle, fatal); // an oversized write may get an error before the server drops the connection
                    tx.c.trySend(fatal.header());
                    tx.c.halfClose();
                }
                expectClose(tx, "after " + fatal);
            } else if (k < 40) {
                drain(tx);
                sendDisc(tx, "NBD_CMD_DISC after every reply");
                expectClose(tx, "after NBD_CMD_DISC");
            } else if (k < 50) {
                sendDisc(tx, "NBD_CMD_DISC with " + tx.inflight.size() + " requests in flight");
                expectClose(tx, "after NBD_CMD_DISC with requests in flight");
            } else if (k < 58) {
                drain(tx);
                note("client closes without NBD_CMD_DISC");
                count("end.close");
                tx.c.close();
            } else if (k < 66) {
                tx.c.out.flush();
                note("client resets the connection with " + tx.inflight.size() + " requests in flight");
                count("end.reset");
                bad++;
                tx.c.reset();
                for (Req r : tx.inflight.values()) {
                    if (r.isWriteClass() && r.expect != Expect.INVALID) {
                        batch.maybe.add(r);
                    }
                }
                tx.inflight.clear();
            } else if (k < 74) {
                drain(tx);
                Req r = validRequest(tx, CMD_READ);
                r.magic = REQUEST_MAGIC ^ (1 << rnd.nextInt(32));
                note(String.format("request magic 0x%08x", r.magic));
                count("end.badMagic");
                messages++;
                bad++;
                tx.c.trySend(r.header());
                expectClose(tx, "after a request with a bad magic");
            } else if (k < 82) {
                drain(tx);
                Req r = new Req();
                r.type = CMD_WRITE;
                r.handle = nextHandle++;
                r.length = MAX_BLOCK + 1 + (rnd.nextLong() & 0xffffffffL) % ((1L << 32) - MAX_BLOCK - 1);
                r.expect = Expect.INVALID;
                r.errors.addAll(List.of(EINVAL, EOVERFLOW, ENOMEM, ENOSPC));
                note("NBD_CMD_WRITE of " + r.length + " bytes (over 32 MiB), no payload");
                count("end.oversizedWrite");
                messages++;
                bad++;
                tx.inflight.put(r.handle, r);
                tx.c.trySend(r.header(), randomBytes(rnd.nextInt(1000)));
                tx.c.halfClose();
                expectClose(tx, "after an oversized write");
            } else if (k < 94) {
                drain(tx);
                Req r = new Req();
                r.type = CMD_WRITE;
                r.handle = nextHandle++;
                r.length = 2 + rnd.nextInt(rnd.nextBoolean() ? 8192 : (int) size - 1);
                r.offset = rnd.nextInt((int) (size - r.length + 1));
                r.payload = randomBytes((int) r.length);
                int sent = rnd.nextInt((int) r.length);
                note("NBD_CMD_WRITE " + r + ", connection ends after " + sent + " payload bytes");
                count("end.midPayload");
                messages++;
                bad++;
                tx.c.trySend(r.header(), Arrays.copyOf(r.payload, sent));
                if (rnd.nextBoolean()) {
                    tx.c.reset();
                } else {
                    tx.c.halfClose();
                    expectClose(tx, "after a write cut off mid-payload");
                }
                // never valid: the primary check after the connection proves its bytes were not written
            } else {
                drain(tx);
                byte[] h = validRequest(tx, CMD_READ).header();
                int cut = 1 + rnd.nextInt(27);
                note("request header cut off after " + cut + " bytes");
                count("end.truncatedHeader");
                messages++;
                bad++;
                tx.c.trySend(Arrays.copyOf(h, cut));
                tx.c.halfClose();
                expectClose(tx, "after a truncated request header");
            }
        }

        void sendDisc(Tx tx, String why) {
            Req d = new Req();
            d.type = CMD_DISC;
            d.handle = nextHandle++;
            note(why);
            count("end.disc");
            messages++;
            tx.c.trySend(d.header());
        }

        /** Waits for the server to close the connection; every request still in flight must have been answered first. */
        void expectClose(Tx tx, String why) {
            try {
                tx.c.out.flush();
            } catch (IOException e) {
                // closed already
            }
            while (!tx.closed) {
                handle(tx, poll(tx));
            }
            tx.inflight.values().removeIf(r -> r.expect == Expect.INVALID); // refused ones may go unanswered when the connection ends
            if (!tx.inflight.isEmpty()) {
                throw new AssertionError("server closed the connection " + why + " without answering " + tx.inflight.size()
                        + " request(s), e.g. " + tx.inflight.values().iterator().next());
            }
        }

        // ---- requests: generation ----

        Req request(Tx tx) {
            for (int attempt = 0; attempt < 20; attempt++) {
                Req r;
                int k = rnd.nextInt(1000);
                if (k < 280) {
                    r = validRequest(tx, CMD_READ);
                } else if (k < 470) {
                    r = validRequest(tx, CMD_WRITE);
                } else if (k < 495) {
                    r = validRequest(tx, CMD_TRIM);
                } else if (k < 520) {
                    r = validRequest(tx, CMD_WRITE_ZEROES);
                } else if (k < 526) {
                    r = validRequest(tx, CMD_FLUSH);
                } else if (k < 550) {
                    r = validRequest(tx, CMD_BLOCK_STATUS);
                } else {
                    r = invalidRequest(tx);
                }
                if (rnd.nextInt(100) < 20) {
                    r = mutate(tx, r);
                    if (r == null) {
                        continue;
                    }
                    if (r.magic != REQUEST_MAGIC || r.type == CMD_DISC || (r.type == CMD_WRITE && r.length > MAX_BLOCK)) {
                        if (rnd.nextInt(200) == 0) {
                            return r; // ends the connection; rarely, so that connections carry many requests
                        }
                        continue;
                    }
                }
                classify(tx, r);
                if (r.isWriteClass() && r.expect != Expect.INVALID && batch.overlapsWrite(r.offset, r.length)) {
                    continue; // keep the writes of one connection apart, so that their order does not matter
                }
                return r;
            }
            return null;
        }

        Req validRequest(Tx tx, int type) {
            Req r = new Req();
            r.type = type;
            r.handle = nextHandle++;
            long len = switch (type) {
                case CMD_READ -> readLength();
                case CMD_WRITE -> writeLength();
                case CMD_TRIM, CMD_WRITE_ZEROES -> 1 + rnd.nextInt(rnd.nextInt(10) != 0 ? 4096 : 256 << 10);
                case CMD_BLOCK_STATUS -> 1 + rnd.nextInt((int) tx.sizeBytes);
                default -> 0;
            };
            len = Math.min(len, tx.sizeBytes);
            r.length = len;
            if (type != CMD_FLUSH) {
                r.offset = offsetFor(tx, len);
            }
            if (type == CMD_WRITE) {
                r.payload = randomBytes((int) len);
            }
            if (type == CMD_READ && tx.structured && rnd.nextInt(5) == 0) {
                r.flags |= CF_DF;
            }
            if (type == CMD_WRITE_ZEROES && rnd.nextBoolean()) {
                r.flags |= CF_NO_HOLE;
            }
            if (type == CMD_WRITE_ZEROES && rnd.nextInt(10) == 0) {
                r.flags |= CF_FAST_ZERO;
            }
            if (type == CMD_BLOCK_STATUS && rnd.nextBoolean()) {
                r.flags |= CF_REQ_ONE;
            }
            if (rnd.nextInt(200) == 0) {
                r.flags |= CF_FUA;
            }
            return r;
        }

        long offsetFor(Tx tx, long len) {
            long max = tx.sizeBytes - len;
            long off = max <= 0 ? 0 : (long) (rnd.nextDouble() * (max + 1));
            if (rnd.nextBoolean()) {
                off &= ~(rnd.nextBoolean() ? 511L : 4095L);
            }
            return Math.min(off, Math.max(0, max));
        }

        long readLength() {
            int m = rnd.nextInt(1000);
            return m < 800 ? 1 + rnd.nextInt(4096) : m < 970 ? 4097 + rnd.nextInt(61_440) : m < 997 ? 1 + rnd.nextInt(1 << 20) : 1 + rnd.nextInt((int) size);
        }

        long writeLength() {
            int k = rnd.nextInt(100);
            return k < 80 ? 1 + rnd.nextInt(4096) : k < 99 ? 4097 + rnd.nextInt(61_440) : 1 + rnd.nextInt(512 << 10);
        }

        Req invalidRequest(Tx tx) {
            int k = rnd.nextInt(10);
            int[] types = {CMD_READ, CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES, CMD_BLOCK_STATUS};
            Req r = validRequest(tx, types[rnd.nextInt(types.length)]);
            switch (k) {
                case 0, 1 -> { // past the end
                    long len = Math.max(1, Math.min(r.length, 65_536));
                    r.length = len;
                    int how = rnd.nextInt(4);
                    r.offset = switch (how) {
                        case 0 -> tx.sizeBytes - len + 1 + rnd.nextInt((int) len);
                        case 1 -> tx.sizeBytes + rnd.nextInt(1 << 20);
                        case 2 -> Long.MIN_VALUE | rnd.nextLong();
                        default -> -1L - rnd.nextInt(4096);
                    };
                    if (r.type == CMD_WRITE) {
                        r.payload = randomBytes((int) len);
                    }
                    r.why = "past the end";
                }
                case 2 -> { // longer than 32 MiB
                    r.type = rnd.nextBoolean() ? CMD_READ : rnd.nextBoolean() ? CMD_TRIM : CMD_BLOCK_STATUS;
                    r.payload = null;
                    r.offset = rnd.nextInt(4096);
                    r.length = MAX_BLOCK + 1 + (rnd.nextLong() & 0xffffffffL) % ((1L << 32) - MAX_BLOCK - 1);
                    r.flags &= CF_FUA;
                    r.why = "over 32 MiB";
                }
                case 3 -> { // unknown command
                    r.type = rnd.nextBoolean() ? CMD_CACHE : 8 + rnd.nextInt(65_528);
                    r.payload = null;
                    r.why = "unknown command";
                }
                case 4, 5 -> { // unknown flags, or known flags that do not apply
                    int bad = rnd.nextBoolean() ? 1 << (5 + rnd.nextInt(11)) : new int[] {CF_NO_HOLE, CF_DF, CF_REQ_ONE, CF_FAST_ZERO}[rnd.nextInt(4)];
                    r.flags |= bad;
                    r.why = "flags";
                }
                case 6 -> { // flush with offset or length
                    r.type = CMD_FLUSH;
                    r.payload = null;
                    r.flags &= CF_FUA;
                    r.offset = rnd.nextInt(1000);
                    r.length = rnd.nextInt(1000);
                    r.why = "flush with offset/length";
                }
                case 7 -> { // zero length
                    r.length = 0;
                    r.payload = new byte[0];
                    r.why = "zero length";
                }
                case 8 -> { // a write of some size past the end of a short member: its payload must be skipped
                    r.type = CMD_WRITE;
                    r.flags &= CF_FUA;
                    r.length = 1 + rnd.nextInt(rnd.nextInt(20) == 0 ? 1 << 20 : 65_536);
                    r.offset = tx.sizeBytes - rnd.nextInt((int) Math.min(r.length, 4096));
                    r.payload = randomBytes((int) r.length);
                    r.why = "write past the end with payload";
                }
                default -> { // write class on whatever export: read-only refuses it
                    r = validRequest(tx, new int[] {CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES}[rnd.nextInt(3)]);
                    r.why = "write class";
                }
            }
            return r;
        }

        /** Flips 1 to 3 bits of a request header (and maybe its payload), then frames it by the new header. Null: try again. */
        Req mutate(Tx tx, Req r) {
            byte[] h = r.header();
            int flips = 1 + rnd.nextInt(3);
            StringBuilder where = new StringBuilder();
            for (int i = 0; i < flips; i++) {
                int bit = rnd.nextInt(28 * 8);
                h[bit / 8] ^= (byte) (1 << (bit % 8));
                where.append(where.length() == 0 ? "" : ",").append(bit);
            }
            ByteBuffer b = ByteBuffer.wrap(h);
            Req m = new Req();
            m.magic = b.getInt();
            m.flags = Short.toUnsignedInt(b.getShort());
            m.type = Short.toUnsignedInt(b.getShort());
            m.handle = b.getLong();
            m.offset = b.getLong();
            m.length = Integer.toUnsignedLong(b.getInt());
            m.why = "bits " + where + " flipped in " + commandName(r.type);
            if (m.type == CMD_WRITE && m.magic == REQUEST_MAGIC && m.length <= MAX_BLOCK) {
                if (m.length > (2 << 20) && rnd.nextInt(10) != 0) {
                    return null;
                }
                byte[] old = r.payload == null ? new byte[0] : r.payload;
                m.payload = m.length <= old.length ? Arrays.copyOf(old, (int) m.length) : concat(old, randomBytes((int) m.length - old.length));
                if (m.payload.length > 0 && rnd.nextBoolean()) {
                    m.payload[rnd.nextInt(m.payload.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            count("request.mutated");
            return m;
        }

        // ---- requests: the oracle ----

        void classify(Tx tx, Req r) {
            Set<Integer> errors = new HashSet<>();
            Set<Integer> lenient = new HashSet<>();
            boolean either = false;
            int t = r.type;
            boolean known = t == CMD_READ || t == CMD_WRITE || t == CMD_FLUSH || t == CMD_TRIM || t == CMD_WRITE_ZEROES || t == CMD_BLOCK_STATUS
                    || (t == CMD_CACHE && (tx.flags & TF_SEND_CACHE) != 0);
            if (!known) {
                r.expect = Expect.INVALID;
                r.errors.add(EINVAL);
                r.breaksMust = true;
                return;
            }
            int applicable = (tx.flags & TF_SEND_FUA) != 0 ? CF_FUA : 0;
            if (t == CMD_READ && tx.structured && (tx.flags & TF_SEND_DF) != 0) {
                applicable |= CF_DF;
            }
            if (t == CMD_WRITE_ZEROES) {
                applicable |= CF_NO_HOLE | ((tx.flags & TF_SEND_FAST_ZERO) != 0 ? CF_FAST_ZERO : 0);
            }
            if (t == CMD_BLOCK_STATUS) {
                applicable |= CF_REQ_ONE;
            }
            if ((r.flags & ~applicable) != 0) {
                errors.add(EINVAL);
                r.breaksMust = true; // "Clients MUST NOT set a command flag bit that is not documented for the particular command"
            }
            if (t == CMD_WRITE_ZEROES && (r.flags & CF_FAST_ZERO) != 0) {
                either = true; // fast zero may be refused with ENOTSUP
                lenient.add(ENOTSUP);
            }
            if (r.isWriteClass() && tx.readOnly()) {
                errors.add(EPERM);
                if (t != CMD_WRITE) {
                    errors.add(EINVAL); // not advertised on a read-only export either
                }
            }
            if ((t == CMD_TRIM && (tx.flags & TF_SEND_TRIM) == 0) || (t == CMD_WRITE_ZEROES && (tx.flags & TF_SEND_WRITE_ZEROES) == 0)
                    || (t == CMD_FLUSH && (tx.flags & TF_SEND_FLUSH) == 0)) {
                errors.add(EINVAL);
                r.breaksMust = true;
            }
            if (t == CMD_BLOCK_STATUS) {
                if (tx.blockStatus == 0) {
                    errors.add(EINVAL);
                    r.breaksMust = true;
                } else if (tx.blockStatus == 2) {
                    either = true;
                    lenient.add(EINVAL);
                }
            }
            if ((t == CMD_READ || t == CMD_WRITE) && r.length > MAX_BLOCK) {
                errors.addAll(List.of(EINVAL, EOVERFLOW, ENOMEM));
                r.breaksMust = true; // over the advertised maximum block size
            }
            if (t == CMD_FLUSH) {
                if (r.offset != 0 || r.length != 0) {
                    either = true; // reserved fields: the spec names no error
                    lenient.add(EINVAL);
                    r.breaksMust = true;
                }
            } else {
                if (Long.compareUnsigned(r.offset, tx.sizeBytes) > 0 || r.length > tx.sizeBytes - r.offset) {
                    errors.add(EINVAL);
                    errors.add(ENOSPC);
                }
                if (r.length == 0) {
                    either = true; // the spec does not say what a zero-length request does
                    lenient.add(EINVAL);
                }
            }
            if (!errors.isEmpty()) {
                r.expect = Expect.INVALID;
                r.errors.addAll(errors);
                r.errors.addAll(lenient);
            } else if (either) {
                r.expect = Expect.EITHER;
                r.errors.addAll(lenient);
            } else {
                r.expect = Expect.VALID;
            }
        }

        // ---- helpers ----

        byte[] readPrimary() throws IOException {
            ByteBuffer b = ByteBuffer.allocate((int) device.sizeBytes());
            device.read(0, b);
            return b.array();
        }

        /** Random bytes from one draw of the seeded generator (xorshift from there: Random.nextBytes is too slow here). */
        byte[] randomBytes(int n) {
            byte[] b = new byte[n];
            long x = rnd.nextLong() | 1;
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.remaining() >= 8) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                buf.putLong(x);
            }
            while (buf.hasRemaining()) {
                buf.put((byte) (x >>>= 8));
            }
            return b;
        }
    }

    static byte[] nameBytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    static String hex(Set<Integer> types) {
        return types.stream().map(t -> "0x" + Integer.toHexString(t)).sorted().toList().toString();
    }

    static String commandName(int type) {
        return switch (type) {
            case CMD_READ -> "READ";
            case CMD_WRITE -> "WRITE";
            case CMD_DISC -> "DISC";
            case CMD_FLUSH -> "FLUSH";
            case CMD_TRIM -> "TRIM";
            case CMD_CACHE -> "CACHE";
            case CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            case CMD_BLOCK_STATUS -> "BLOCK_STATUS";
            default -> "command " + type;
        };
    }

    static String optionName(int option) {
        return switch (option) {
            case OPT_EXPORT_NAME -> "EXPORT_NAME";
            case OPT_ABORT -> "ABORT";
            case OPT_LIST -> "LIST";
            case OPT_STARTTLS -> "STARTTLS";
            case OPT_INFO -> "INFO";
            case OPT_GO -> "GO";
            case OPT_STRUCTURED_REPLY -> "STRUCTURED_REPLY";
            case OPT_LIST_META_CONTEXT -> "LIST_META_CONTEXT";
            case OPT_SET_META_CONTEXT -> "SET_META_CONTEXT";
            default -> "option " + Integer.toUnsignedString(option);
        };
    }
}
