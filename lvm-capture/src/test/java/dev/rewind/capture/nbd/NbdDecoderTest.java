package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;
import static dev.rewind.testfixtures.nbd.NbdWire.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.nbd.NbdMessage.CommandRequest;
import dev.rewind.capture.nbd.NbdMessage.HardDisconnect;
import dev.rewind.capture.nbd.NbdMessage.RefusedOption;
import dev.rewind.capture.nbd.NbdMessage.RejectedRequest;
import dev.rewind.capture.nbd.NbdMessage.WriteRequest;
import dev.rewind.testfixtures.seed.Seeds;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The decoder fed raw bytes, split at every position: every message, every limit and every
 * refusal. Messages are compared by {@link #describe}, which leaves out human-readable text.
 */
class NbdDecoderTest {
    private static final long SIZE = 1L << 30;

    private final NbdBufferPool pool = new NbdBufferPool(64L << 20, 0);

    @AfterEach
    void everyPayloadBufferWasGivenBack() {
        assertEquals(0, pool.inUseBytes(), "payload bytes still out of the pool");
    }

    // ---- handshake ----

    @Test
    void clientFlagsWithKnownBitsAreDecoded() throws Exception {
        assertDecodesAtEverySplit(this::handshake, clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES),
                "ClientFlags[fixedNewstyle=true, noZeroes=true]");
        assertDecodesAtEverySplit(this::handshake, clientFlags(0), "ClientFlags[fixedNewstyle=false, noZeroes=false]");
    }

    @ParameterizedTest
    @ValueSource(ints = {1 << 2, 1 << 31, 0xffffffff})
    void unknownClientFlagDisconnectsAndNothingMoreIsDecoded(int flags) throws Exception {
        NbdDecoder d = handshake();
        assertEquals(List.of("HardDisconnect"), describeAll(feed(d, concat(clientFlags(flags), option(OPT_LIST, new byte[0])))));
    }

    @Test
    void optionWithBadMagicDisconnects() throws Exception {
        byte[] bad = option(OPT_LIST, new byte[0]);
        bad[0] ^= 1;
        assertDecodesAtEverySplit(this::options, concat(bad, option(OPT_LIST, new byte[0])), "HardDisconnect");
    }

    @Test
    void exportNameIsDecodedAtEverySplit() throws Exception {
        assertDecodesAtEverySplit(this::options, exportName("s/m0@time:2024-05-01T12:00:00Z"),
                "ExportNameOption[exportName=s/m0@time:2024-05-01T12:00:00Z]");
        assertDecodesAtEverySplit(this::options, exportName("größe/ß"), "ExportNameOption[exportName=größe/ß]");
    }

    @Test
    void emptyExportNameIsTheDefaultExport() throws Exception {
        assertDecodesAtEverySplit(this::options, exportName(""), "ExportNameOption[exportName=]");
    }

    @ParameterizedTest
    @ValueSource(longs = {MAX_STRING_BYTES + 1, 0xffffffffL})
    void exportNameLongerThan4096BytesDisconnectsBeforeItsDataIsRead(long length) throws Exception {
        List<NbdMessage> got = feed(options(), optionHeader(OPT_EXPORT_NAME, length));
        assertEquals(1, got.size());
        assertTrue(((HardDisconnect) got.get(0)).reason().contains("4096"), got.toString());
    }

    @Test
    void exportNameOf4096BytesIsAccepted() throws Exception {
        String name = "x".repeat(MAX_STRING_BYTES);
        assertEquals(List.of("ExportNameOption[exportName=" + name + "]"), describeAll(feed(options(), exportName(name))));
    }

    @Test
    void exportNameThatIsNotUtf8OrHasNulDisconnects() throws Exception {
        assertDecodesAtEverySplit(this::options, option(OPT_EXPORT_NAME, new byte[] {'s', (byte) 0xc3, '(', 'x'}), "HardDisconnect");
        assertDecodesAtEverySplit(this::options, option(OPT_EXPORT_NAME, new byte[] {'s', 0, 'x'}), "HardDisconnect");
    }

    @Test
    void goAndInfoAreDecodedAtEverySplit() throws Exception {
        assertDecodesAtEverySplit(this::options, concat(option(OPT_GO, infoData("s/m0", INFO_BLOCK_SIZE, INFO_NAME)),
                        option(OPT_INFO, infoData(""))),
                "InfoOption[go=true, exportName=s/m0, infoRequests=[3, 1]]",
                "InfoOption[go=false, exportName=, infoRequests=[]]");
    }

    @Test
    void malformedGoIsRefusedAsInvalidAndTheNextOptionStillDecodes() throws Exception {
        byte[] list = option(OPT_LIST, new byte[0]);
        byte[] good = infoData("s/m0", INFO_BLOCK_SIZE);
        byte[] nameBeyondData = good.clone();
        ByteBuffer.wrap(nameBeyondData).putInt(0, good.length - 5);
        byte[] trailingByte = Arrays.copyOf(good, good.length + 1);
        byte[] countTooHigh = good.clone();
        ByteBuffer.wrap(countTooHigh).putShort(4 + 4, (short) 2);
        for (byte[] data : List.of(new byte[5], nameBeyondData, trailingByte, countTooHigh, infoData("x".repeat(MAX_STRING_BYTES + 1)),
                concat(new byte[] {0, 0, 0, 2, (byte) 0xff, (byte) 0xfe}, new byte[2]))) {
            assertDecodesAtEverySplit(this::options, concat(option(OPT_GO, data), list),
                    refused(OPT_GO, REP_ERR_INVALID), "ListOption[]");
        }
    }

    @Test
    void optionDataOver64KiBIsRefusedAsTooBigAndSkippedUnread() throws Exception {
        byte[] big = new byte[MAX_OPTION_DATA_BYTES + 1];
        assertDecodesAtEverySplit(this::options, concat(option(OPT_GO, big), option(OPT_LIST, new byte[0])),
                refused(OPT_GO, REP_ERR_TOO_BIG), "ListOption[]");
        for (int opt : new int[] {OPT_INFO, OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT}) {
            assertEquals(List.of(refused(opt, REP_ERR_TOO_BIG)), describeAll(feed(options(), option(opt, big))));
        }
    }

    @Test
    void optionAnnouncing4GiBIsSkippedWithoutBufferingIt() throws Exception {
        NbdDecoder d = options();
        assertEquals(List.of(), feed(d, optionHeader(OPT_SET_META_CONTEXT, 0xffffffffL), new byte[1 << 20]));
    }

    @Test
    void listAndStructuredReplyWithDataAreInvalid() throws Exception {
        assertDecodesAtEverySplit(this::options, concat(option(OPT_LIST, new byte[3]), option(OPT_STRUCTURED_REPLY, new byte[1]),
                        option(OPT_LIST, new byte[0]), option(OPT_STRUCTURED_REPLY, new byte[0])),
                refused(OPT_LIST, REP_ERR_INVALID), refused(OPT_STRUCTURED_REPLY, REP_ERR_INVALID), "ListOption[]", "StructuredReplyOption[]");
    }

    @Test
    void abortIgnoresItsData() throws Exception {
        assertDecodesAtEverySplit(this::options, concat(option(OPT_ABORT, new byte[7]), option(OPT_ABORT, new byte[0])),
                "AbortOption[]", "AbortOption[]");
    }

    @Test
    void unknownOptionsAreUnsupportedAndTheirDataSkipped() throws Exception {
        assertDecodesAtEverySplit(this::options, concat(option(4, new byte[9]),
                        option(0x7fff0000, new byte[100]), option(OPT_LIST, new byte[0])),
                refused(4, REP_ERR_UNSUP), refused(0x7fff0000, REP_ERR_UNSUP), "ListOption[]");
    }

    @Test
    void startTlsIsDecodedAndWithDataIsInvalidAndSkipped() throws Exception {
        assertDecodesAtEverySplit(this::options, concat(option(OPT_STARTTLS, new byte[0]), option(OPT_STARTTLS, new byte[5]),
                        option(OPT_LIST, new byte[0])),
                "StartTlsOption[]", refused(OPT_STARTTLS, REP_ERR_INVALID), "ListOption[]");
    }

    @Test
    void metaContextOptionsAreDecodedAtEverySplit() throws Exception {
        assertDecodesAtEverySplit(this::options, concat(option(OPT_LIST_META_CONTEXT, metaContextData("s/m0")),
                        option(OPT_SET_META_CONTEXT, metaContextData("s/m0", "base:allocation", "qemu:dirty-bitmap:x"))),
                "MetaContextOption[set=false, exportName=s/m0, queries=[]]",
                "MetaContextOption[set=true, exportName=s/m0, queries=[base:allocation, qemu:dirty-bitmap:x]]");
    }

    @Test
    void malformedMetaContextOptionsAreInvalid() throws Exception {
        byte[] good = metaContextData("s/m0", "base:allocation");
        byte[] nameBeyond = good.clone();
        ByteBuffer.wrap(nameBeyond).putInt(0, 1000);
        byte[] countBeyond = good.clone();
        ByteBuffer.wrap(countBeyond).putInt(4 + 4, 3);
        byte[] hugeCount = good.clone();
        ByteBuffer.wrap(hugeCount).putInt(4 + 4, 0x7fffffff);
        byte[] queryBeyond = good.clone();
        ByteBuffer.wrap(queryBeyond).putInt(4 + 4 + 4, 100);
        byte[] trailing = Arrays.copyOf(good, good.length + 2);
        for (byte[] data : List.of(new byte[7], nameBeyond, countBeyond, hugeCount, queryBeyond, trailing,
                metaContextData("s/m0", "base:" + "x".repeat(MAX_STRING_BYTES)), metaContextData("x".repeat(MAX_STRING_BYTES + 1)),
                metaContextWithBadUtf8())) {
            for (int opt : new int[] {OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT}) {
                assertDecodesAtEverySplit(this::options, concat(option(opt, data), option(OPT_LIST, new byte[0])),
                        refused(opt, REP_ERR_INVALID), "ListOption[]");
            }
        }
    }

    private static byte[] metaContextWithBadUtf8() {
        byte[] data = metaContextData("s/m0", "base:allocation");
        data[data.length - 1] = (byte) 0xff;
        return data;
    }

    // ---- transmission ----

    @Test
    void readRequestIsDecodedAtEverySplit() throws Exception {
        assertDecodesAtEverySplit(() -> transmission(false, false, false),
                concat(request(0, CMD_READ, 0x1122334455667788L, 4096, 8192), request(CMD_FLAG_FUA, CMD_FLUSH, 2, 0, 0)),
                "CommandRequest[flags=0, type=0, handle=1234605616436508552, offset=4096, length=8192]",
                "CommandRequest[flags=1, type=3, handle=2, offset=0, length=0]");
    }

    @Test
    void writeRequestCarriesItsPayloadAtEverySplit() throws Exception {
        byte[] payload = pattern(600, 7);
        assertDecodesAtEverySplit(() -> transmission(false, false, false),
                concat(write(CMD_FLAG_FUA, 9, 512, payload), request(0, CMD_READ, 10, 0, 1)),
                "Write(CommandRequest[flags=1, type=1, handle=9, offset=512, length=600], " + HexFormat.of().formatHex(payload) + ")",
                "CommandRequest[flags=0, type=0, handle=10, offset=0, length=1]");
    }

    @Test
    void writePayloadComesFromThePoolAndCanBeFilledStraightFromTheSocket() throws Exception {
        NbdDecoder d = transmission(false, false, false);
        byte[] payload = pattern(10000, 3);
        assertEquals(List.of(), feed(d, request(0, CMD_WRITE, 1, 0, payload.length), Arrays.copyOf(payload, 100)));
        assertEquals(16384, pool.inUseBytes(), "one 16 KiB buffer for a 10000-byte write");
        ByteBuffer target = d.payloadToFill();
        assertEquals(payload.length - 100, target.remaining());
        target.put(payload, 100, payload.length - 100);
        WriteRequest w = (WriteRequest) d.decode(ByteBuffer.allocate(0));
        assertEquals(ByteBuffer.wrap(payload), w.payload());
        assertNull(d.payloadToFill());
        pool.release(w.payload());
    }

    @Test
    void closeGivesBackAPartlyReadPayload() throws Exception {
        NbdDecoder d = transmission(false, false, false);
        feed(d, request(0, CMD_WRITE, 1, 0, 1 << 20), new byte[1000]);
        assertEquals(1 << 20, pool.inUseBytes());
        d.close();
        assertEquals(0, pool.inUseBytes());
        assertNull(d.decode(ByteBuffer.wrap(new byte[100])));
    }

    @Test
    void requestWithBadMagicDisconnects() throws Exception {
        byte[] bad = request(0, CMD_READ, 1, 0, 512);
        bad[3] ^= 0x10;
        assertDecodesAtEverySplit(() -> transmission(false, false, false), concat(bad, request(0, CMD_READ, 2, 0, 512)), "HardDisconnect");
    }

    @ParameterizedTest
    @ValueSource(longs = {MAX_BLOCK_BYTES + 1L, 0xffffffffL})
    void writeLargerThan32MiBDisconnectsBecauseItsPayloadCannotBeSkippedSafely(long length) throws Exception {
        List<NbdMessage> got = feed(transmission(false, false, false), request(0, CMD_WRITE, 1, 0, length));
        assertEquals(List.of("HardDisconnect"), describeAll(got));
    }

    @Test
    void writeOfExactly32MiBIsAccepted() throws Exception {
        List<NbdMessage> got = feed(transmission(false, false, false), request(0, CMD_WRITE, 1, 0, MAX_BLOCK_BYTES),
                new byte[MAX_BLOCK_BYTES]);
        WriteRequest w = (WriteRequest) got.get(0);
        assertEquals(MAX_BLOCK_BYTES, w.payload().remaining());
        pool.release(w.payload());
    }

    @Test
    void readLargerThan32MiBIsEinvalButTrimZeroesAndBlockStatusAreLimitedOnlyByTheExport() throws Exception {
        long big = MAX_BLOCK_BYTES + 1L;
        assertDecodesAtEverySplit(() -> transmission(false, true, true),
                concat(request(0, CMD_READ, 1, 0, big), request(0, CMD_WRITE_ZEROES, 2, 0, big), request(0, CMD_TRIM, 3, 0, SIZE),
                        request(0, CMD_BLOCK_STATUS, 4, 0, big)),
                rejected(CMD_READ, 1, EINVAL),
                "CommandRequest[flags=0, type=6, handle=2, offset=0, length=33554433]",
                "CommandRequest[flags=0, type=4, handle=3, offset=0, length=1073741824]",
                "CommandRequest[flags=0, type=7, handle=4, offset=0, length=33554433]");
    }

    @Test
    void requestsBeyondTheEndAreRefusedEinvalOrEnospcForWritesAndWritePayloadsAreSkipped() throws Exception {
        byte[] payload = pattern(1024, 1);
        assertDecodesAtEverySplit(() -> transmission(false, true, true),
                concat(request(0, CMD_READ, 1, SIZE - 512, 1024), request(0, CMD_READ, 2, SIZE + 1, 0), request(0, CMD_READ, 3, -4096L, 8192),
                        request(0, CMD_TRIM, 4, SIZE, 1), request(0, CMD_BLOCK_STATUS, 5, SIZE - 1, 2),
                        write(0, 6, SIZE - 512, payload), request(0, CMD_WRITE_ZEROES, 7, Long.MAX_VALUE, 4096),
                        request(0, CMD_READ, 8, SIZE - 1024, 1024)),
                rejected(CMD_READ, 1, EINVAL), rejected(CMD_READ, 2, EINVAL), rejected(CMD_READ, 3, EINVAL), rejected(CMD_TRIM, 4, EINVAL),
                rejected(CMD_BLOCK_STATUS, 5, EINVAL), rejected(CMD_WRITE, 6, ENOSPC), rejected(CMD_WRITE_ZEROES, 7, ENOSPC),
                "CommandRequest[flags=0, type=0, handle=8, offset=1073740800, length=1024]");
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 8, 9, 0x7fff, 0xffff})
    void unknownCommandIsEinval(int type) throws Exception {
        assertDecodesAtEverySplit(() -> transmission(false, true, true), request(0, type, 1, 0, 512), rejected(type, 1, EINVAL));
    }

    @Test
    void flagsNotDocumentedForTheCommandAreEinval() throws Exception {
        assertDecodesAtEverySplit(() -> transmission(false, false, true),
                concat(request(CMD_FLAG_NO_HOLE, CMD_READ, 1, 0, 512), request(CMD_FLAG_DF, CMD_READ, 2, 0, 512),
                        write(CMD_FLAG_REQ_ONE, 3, 0, new byte[10]), request(CMD_FLAG_FAST_ZERO, CMD_TRIM, 4, 0, 512),
                        request(1 << 5, CMD_FLUSH, 5, 0, 0), request(0x8000, CMD_BLOCK_STATUS, 6, 0, 512)),
                rejected(CMD_READ, 1, EINVAL), rejected(CMD_READ, 2, EINVAL), rejected(CMD_WRITE, 3, EINVAL), rejected(CMD_TRIM, 4, EINVAL),
                rejected(CMD_FLUSH, 5, EINVAL), rejected(CMD_BLOCK_STATUS, 6, EINVAL));
    }

    @Test
    void documentedFlagsAreAcceptedIncludingFuaOnEveryCommand() throws Exception {
        assertDecodesAtEverySplit(() -> transmission(false, true, true),
                concat(request(CMD_FLAG_FUA | CMD_FLAG_DF, CMD_READ, 1, 0, 512), request(CMD_FLAG_FUA, CMD_FLUSH, 2, 0, 0),
                        request(CMD_FLAG_FUA | CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO, CMD_WRITE_ZEROES, 3, 0, 512),
                        request(CMD_FLAG_FUA | CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 4, 0, 512), request(CMD_FLAG_FUA, CMD_TRIM, 5, 0, 512)),
                "CommandRequest[flags=5, type=0, handle=1, offset=0, length=512]",
                "CommandRequest[flags=1, type=3, handle=2, offset=0, length=0]",
                "CommandRequest[flags=19, type=6, handle=3, offset=0, length=512]",
                "CommandRequest[flags=9, type=7, handle=4, offset=0, length=512]",
                "CommandRequest[flags=1, type=4, handle=5, offset=0, length=512]");
    }

    @Test
    void writesTrimsAndZeroesOnAReadOnlyExportAreEpermAndTheirPayloadIsSkipped() throws Exception {
        assertDecodesAtEverySplit(() -> transmission(true, true, true),
                concat(write(0, 1, 0, pattern(700, 2)), request(0, CMD_TRIM, 2, 0, 512), request(0, CMD_WRITE_ZEROES, 3, 0, 512),
                        request(0, CMD_READ, 4, 0, 512), request(0, CMD_FLUSH, 5, 0, 0)),
                rejected(CMD_WRITE, 1, EPERM), rejected(CMD_TRIM, 2, EPERM), rejected(CMD_WRITE_ZEROES, 3, EPERM),
                "CommandRequest[flags=0, type=0, handle=4, offset=0, length=512]",
                "CommandRequest[flags=0, type=3, handle=5, offset=0, length=0]");
    }

    @Test
    void blockStatusWithoutASelectedContextOrOfZeroBytesIsEinval() throws Exception {
        assertDecodesAtEverySplit(() -> transmission(false, true, false), request(0, CMD_BLOCK_STATUS, 1, 0, 512),
                rejected(CMD_BLOCK_STATUS, 1, EINVAL));
        assertDecodesAtEverySplit(() -> transmission(false, true, true), request(0, CMD_BLOCK_STATUS, 1, 0, 0),
                rejected(CMD_BLOCK_STATUS, 1, EINVAL));
    }

    @Test
    void flushWithOffsetOrLengthIsEinval() throws Exception {
        assertDecodesAtEverySplit(() -> transmission(false, false, false),
                concat(request(0, CMD_FLUSH, 1, 512, 0), request(0, CMD_FLUSH, 2, 0, 512)),
                rejected(CMD_FLUSH, 1, EINVAL), rejected(CMD_FLUSH, 2, EINVAL));
    }

    @Test
    void zeroLengthReadsWritesAndTrimsAreAcceptedWithoutAPayloadBuffer() throws Exception {
        assertDecodesAtEverySplit(() -> transmission(false, false, false),
                concat(request(0, CMD_READ, 1, SIZE, 0), request(0, CMD_WRITE, 2, 0, 0), request(0, CMD_TRIM, 3, 0, 0),
                        request(0, CMD_WRITE_ZEROES, 4, 0, 0)),
                "CommandRequest[flags=0, type=0, handle=1, offset=1073741824, length=0]",
                "CommandRequest[flags=0, type=1, handle=2, offset=0, length=0]",
                "CommandRequest[flags=0, type=4, handle=3, offset=0, length=0]",
                "CommandRequest[flags=0, type=6, handle=4, offset=0, length=0]");
    }

    @Test
    void discEndsDecodingWhateverFollows() throws Exception {
        assertDecodesAtEverySplit(() -> transmission(false, false, false),
                concat(request(0, CMD_DISC, 1, 0, 0), request(0, CMD_READ, 2, 0, 512), new byte[] {1, 2, 3}),
                "CommandRequest[flags=0, type=2, handle=1, offset=0, length=0]");
    }

    @Test
    void transmissionStartsOnlyBetweenOptions() throws Exception {
        NbdDecoder d = options();
        feed(d, optionHeader(OPT_GO, 10));
        assertThrows(IllegalStateException.class, () -> d.enterTransmission(SIZE, false, false, false));
        assertThrows(IllegalStateException.class, () -> handshake().enterTransmission(SIZE, false, false, false));
    }

    @Test
    void exportNameFollowedByRequestsSwitchesPhaseExactlyAtTheBoundary() throws Exception {
        NbdDecoder d = options();
        ByteBuffer in = ByteBuffer.wrap(concat(exportName("s/m0"), request(0, CMD_READ, 1, 0, 512)));
        assertInstanceOf(NbdMessage.ExportNameOption.class, d.decode(in));
        assertEquals(28, in.remaining(), "the request was left for transmission");
        d.enterTransmission(SIZE, false, false, false);
        assertInstanceOf(CommandRequest.class, d.decode(in));
    }

    /** Seeded random input, in both phases, split at random: the decoder never throws and never over-allocates. */
    static LongStream seeds() {
        return Seeds.range(1, 20);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void randomBytesNeverBreakTheDecoder(long seed) throws Exception {
        Random random = new Random(seed);
        for (int round = 0; round < 50; round++) {
            boolean inTransmission = random.nextBoolean();
            NbdDecoder d = inTransmission ? transmission(random.nextBoolean(), random.nextBoolean(), random.nextBoolean()) : options();
            byte[] bytes = new byte[random.nextInt(4096)];
            random.nextBytes(bytes);
            // make valid magics likely, so that decoding goes past the first header
            for (int at = 0; at + 8 <= bytes.length; at += 1 + random.nextInt(64)) {
                if (random.nextInt(3) == 0) {
                    ByteBuffer.wrap(bytes).putInt(at, REQUEST_MAGIC);
                } else if (random.nextInt(3) == 0) {
                    ByteBuffer.wrap(bytes).putLong(at, IHAVEOPT);
                }
            }
            ByteBuffer in = ByteBuffer.wrap(bytes);
            while (in.hasRemaining()) {
                ByteBuffer piece = in.slice(in.position(), Math.min(in.remaining(), 1 + random.nextInt(300)));
                in.position(in.position() + piece.remaining());
                NbdMessage m;
                while ((m = d.decode(piece)) != null) {
                    if (m instanceof WriteRequest w) {
                        assertTrue(w.payload().remaining() <= MAX_BLOCK_BYTES);
                        pool.release(w.payload());
                    }
                }
                assertFalse(piece.hasRemaining(), Seeds.describe(seed) + ": decode returned null with bytes left");
                assertTrue(pool.inUseBytes() <= MAX_BLOCK_BYTES * 2L, Seeds.describe(seed));
            }
            d.close();
        }
    }

    // ---- helpers ----

    private NbdDecoder handshake() {
        return new NbdDecoder(pool);
    }

    private NbdDecoder options() {
        NbdDecoder d = handshake();
        try {
            assertEquals(1, feed(d, clientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)).size());
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return d;
    }

    private NbdDecoder transmission(boolean readOnly, boolean structuredReplies, boolean blockStatus) {
        NbdDecoder d = options();
        d.enterTransmission(SIZE, readOnly, structuredReplies, blockStatus);
        return d;
    }

    /** Feeds the pieces in order, collecting every message; checks a null decode leaves nothing unread. */
    private static List<NbdMessage> feed(NbdDecoder decoder, byte[]... pieces) throws InterruptedException {
        List<NbdMessage> out = new ArrayList<>();
        for (byte[] p : pieces) {
            ByteBuffer in = ByteBuffer.wrap(p);
            NbdMessage m;
            while ((m = decoder.decode(in)) != null) {
                out.add(m);
            }
            assertFalse(in.hasRemaining(), "decode returned null with bytes left");
        }
        return out;
    }

    /** Decodes {@code bytes} split in two at every position, and byte by byte; each time the messages must be {@code expected}. */
    private void assertDecodesAtEverySplit(Supplier<NbdDecoder> fresh, byte[] bytes, String... expected) throws InterruptedException {
        List<String> want = List.of(expected);
        for (int at = 0; at <= bytes.length; at++) {
            NbdDecoder d = fresh.get();
            List<NbdMessage> got = feed(d, Arrays.copyOfRange(bytes, 0, at), Arrays.copyOfRange(bytes, at, bytes.length));
            assertEquals(want, describeAll(got), "split at byte " + at);
            releasePayloads(got);
            d.close();
        }
        NbdDecoder d = fresh.get();
        List<NbdMessage> got = new ArrayList<>();
        for (byte b : bytes) {
            got.addAll(feed(d, new byte[] {b}));
        }
        assertEquals(want, describeAll(got), "byte by byte");
        releasePayloads(got);
        d.close();
    }

    private void releasePayloads(List<NbdMessage> messages) {
        for (NbdMessage m : messages) {
            if (m instanceof WriteRequest w) {
                pool.release(w.payload());
            }
        }
    }

    private static List<String> describeAll(List<NbdMessage> messages) {
        return messages.stream().map(NbdDecoderTest::describe).toList();
    }

    /** A message without its human-readable text, which the assertions need not pin down. */
    static String describe(NbdMessage m) {
        if (m instanceof HardDisconnect) {
            return "HardDisconnect";
        } else if (m instanceof RefusedOption r) {
            return refused(r.option(), r.replyType());
        } else if (m instanceof RejectedRequest r) {
            return rejected(r.command().type(), r.command().handle(), r.error());
        } else if (m instanceof WriteRequest w) {
            ByteBuffer p = w.payload().duplicate();
            byte[] bytes = new byte[p.remaining()];
            p.get(bytes);
            return "Write(" + w.command() + ", " + HexFormat.of().formatHex(bytes) + ")";
        }
        return m.toString();
    }

    private static String refused(int option, int replyType) {
        return String.format("Refused(%d, 0x%08x)", option, replyType);
    }

    private static String rejected(int type, long handle, int error) {
        return "Rejected(" + commandName(type) + ", handle " + handle + ", error " + error + ")";
    }
}
