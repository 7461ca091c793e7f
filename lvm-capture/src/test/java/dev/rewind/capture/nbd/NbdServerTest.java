package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;
import static dev.rewind.testfixtures.nbd.NbdWire.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.BookmarkLookup;
import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.nbd.NbdTestClient.Chunk;
import dev.rewind.testfixtures.nbd.NbdTestClient.ExportInfo;
import dev.rewind.testfixtures.nbd.NbdTestClient.OptionReply;
import dev.rewind.testfixtures.nbd.NbdTestClient.SimpleReply;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server over a real captured set (members m0 of 4 MiB and m1 of 2 MiB), spoken to by a
 * raw-socket client, and by real clients (qemu-io, nbdinfo) when they are installed.
 */
class NbdServerTest {
    private static final long M0_BYTES = 4 << 20;
    private static final java.time.Instant BOOKMARKED_AT = java.time.Instant.parse("2026-03-01T12:00:00Z");

    @TempDir
    Path tmp;

    private TestSet testSet;
    private CapturedSet set;
    private final Map<String, Long> bookmarks = new ConcurrentHashMap<>();
    private NbdServer server;

    @BeforeEach
    void startServer() throws IOException {
        testSet = TestSet.create(tmp, "s", 4 << 20, 2 << 20);
        set = testSet.open();
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), new CapturedSetExports(Map.of("s", set), new BookmarkLookup() {
            @Override
            public OptionalLong seqOf(String setName, String bookmark) {
                return setName.equals("s") && bookmarks.containsKey(bookmark) ? OptionalLong.of(bookmarks.get(bookmark)) : OptionalLong.empty();
            }

            @Override
            public List<Bookmark> list(String setName) {
                return bookmarks.entrySet().stream().sorted(Map.Entry.comparingByValue())
                        .map(e -> new Bookmark(e.getKey(), e.getValue(), BOOKMARKED_AT, e.getKey().startsWith("consistent"))).toList();
            }
        }), NbdServer.TcpWrites.ANY_CLIENT);
    }

    @AfterEach
    void stopServer() throws IOException {
        server.close();
        set.close();
        testSet.close();
    }

    // ---- handshake ----

    @Test
    void handshakeOffersFixedNewstyleAndNoZeroes() throws IOException {
        try (NbdTestClient c = NbdTestClient.greeted(server.port())) {
            assertEquals(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, c.handshakeFlags);
        }
    }

    @Test
    void unknownClientFlagClosesTheConnection() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port(), FLAG_C_FIXED_NEWSTYLE | 1 << 7)) {
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void listNamesEveryMember() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            List<OptionReply> replies = c.option(OPT_LIST, new byte[0]);
            List<String> names = new ArrayList<>();
            for (OptionReply r : replies.subList(0, replies.size() - 1)) {
                assertEquals(REP_SERVER, r.type());
                ByteBuffer b = r.buffer();
                byte[] name = new byte[b.getInt()];
                b.get(name);
                names.add(new String(name, StandardCharsets.UTF_8));
            }
            assertEquals(List.of("s/m0", "s/m1"), names);
            assertEquals(REP_ACK, replies.get(replies.size() - 1).type());
        }
    }

    @Test
    void listOffersEachMemberAtEachBookmarkWithItsSeqCreationAndConsistency() throws IOException {
        try (NbdTestClient w = NbdTestClient.open(server.port(), "s/m0")) {
            assertEquals(0, w.write(0, new byte[] {1}));
            assertEquals(0, w.flush());
        }
        bookmarks.put("before", 1L);
        bookmarks.put("consistent-one", 0L);
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            List<OptionReply> replies = c.option(OPT_LIST, new byte[0]);
            Map<String, String> described = new java.util.LinkedHashMap<>();
            for (OptionReply r : replies.subList(0, replies.size() - 1)) {
                ByteBuffer b = r.buffer();
                byte[] name = new byte[b.getInt()];
                b.get(name);
                byte[] description = new byte[b.remaining()];
                b.get(description);
                described.put(new String(name, StandardCharsets.UTF_8), new String(description, StandardCharsets.UTF_8));
            }
            assertEquals(List.of("s/m0", "s/m1", "s/m0@bookmark:consistent-one", "s/m1@bookmark:consistent-one", "s/m0@bookmark:before",
                    "s/m1@bookmark:before"), List.copyOf(described.keySet()));
            assertEquals("member m1 of set s at bookmark before: seq 1, created 2026-03-01T12:00:00Z, not consistent, read-only",
                    described.get("s/m1@bookmark:before"));
            assertTrue(described.get("s/m0@bookmark:consistent-one").contains("seq 0") && described.get("s/m0@bookmark:consistent-one")
                    .contains(", consistent,"), described.toString());
            assertTrue(described.get("s/m0").contains("every write captured"), described.toString());
            NbdTestClient.ExportInfo listed = c.go("s/m0@bookmark:before");
            assertTrue(listed.has(FLAG_READ_ONLY), "a listed bookmark export opens, read-only");
            assertArrayEquals(new byte[] {1}, c.read(0, 1));
        }
    }

    @Test
    void infoDescribesTheExportAndItsBlockSizesAndHagglingGoesOn() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            ExportInfo info = c.info(OPT_INFO, "s/m0", INFO_BLOCK_SIZE, INFO_NAME, INFO_DESCRIPTION);
            assertEquals(M0_BYTES, info.sizeBytes());
            assertEquals(FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO
                    | FLAG_CAN_MULTI_CONN, info.flags());
            Map<Integer, ByteBuffer> items = infoItems(info);
            ByteBuffer blockSize = items.get(INFO_BLOCK_SIZE);
            assertEquals(12, blockSize.remaining());
            assertEquals(List.of(1, 4096, 32 << 20), List.of(blockSize.getInt(), blockSize.getInt(), blockSize.getInt()));
            assertEquals("s/m0", StandardCharsets.UTF_8.decode(items.get(INFO_NAME)).toString());
            assertTrue(StandardCharsets.UTF_8.decode(items.get(INFO_DESCRIPTION)).toString().contains("m0"));

            assertEquals(REP_ACK, c.option(OPT_LIST, new byte[0]).get(2).type(), "still haggling after INFO");
            assertEquals(info.flags(), c.go("s/m0").flags());
            assertArrayEquals(new byte[512], c.read(0, 512));
        }
    }

    @Test
    void goOnAnExportThatCannotBeServedIsRefusedWithTheReasonAndTheClientMayTryAgain() throws IOException {
        Map<String, String> reasons = new HashMap<>();
        reasons.put("s/nope", "s/nope");
        reasons.put("nope", "nope");
        reasons.put("", "''");
        reasons.put("t/m0", "t/m0");
        reasons.put("s/m0@99", "beyond the newest write");
        reasons.put("s/m0@bookmark:missing", "no bookmark named missing");
        reasons.put("s/m0@time:yesterday", "ISO-8601");
        reasons.put("s/m0@time:1999-01-01T00:00:00Z", "history");
        reasons.put("s/m0@last-tuesday", "not a point in time");
        reasons.put("s/m0@99999999999999999999", "too large");
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            for (Map.Entry<String, String> e : reasons.entrySet()) {
                List<OptionReply> replies = c.option(OPT_GO, infoData(e.getKey()));
                assertEquals(1, replies.size(), e.getKey());
                assertEquals(REP_ERR_UNKNOWN, replies.get(0).type(), e.getKey());
                assertTrue(replies.get(0).text().contains(e.getValue()), e.getKey() + ": " + replies.get(0).text());
            }
            c.go("s/m1");
            assertArrayEquals(new byte[100], c.read(0, 100));
        }
    }

    @Test
    void exportNameOfAnUnknownExportDisconnects() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.out.write(exportName("s/nope"));
            c.out.flush();
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void exportNameEntersTransmissionWithZeroesUnlessTheClientDeclinedThem() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port(), FLAG_C_FIXED_NEWSTYLE)) {
            c.out.write(exportName("s/m1"));
            c.out.flush();
            assertEquals(2 << 20, c.in.readLong());
            assertEquals(FLAG_HAS_FLAGS, c.in.readUnsignedShort() & FLAG_HAS_FLAGS);
            byte[] zeroes = new byte[124];
            c.in.readFully(zeroes);
            assertArrayEquals(new byte[124], zeroes);
            assertArrayEquals(new byte[16], c.read(0, 16));
        }
        try (NbdTestClient c = NbdTestClient.connect(server.port(), FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) {
            c.out.write(exportName("s/m1"));
            c.out.flush();
            assertEquals(2 << 20, c.in.readLong());
            c.in.readUnsignedShort();
            assertArrayEquals(new byte[16], c.read(0, 16), "the reply follows the flags at once");
        }
    }

    @Test
    void abortIsAcknowledgedThenTheConnectionCloses() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            assertEquals(REP_ACK, c.option(OPT_ABORT, new byte[0]).get(0).type());
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void unknownMalformedAndOversizedOptionsAreRefusedAndHagglingGoesOn() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            assertEquals(REP_ERR_UNSUP, c.option(OPT_STARTTLS, new byte[0]).get(0).type());
            assertEquals(REP_ERR_UNSUP, c.option(4242, new byte[300]).get(0).type());
            assertEquals(REP_ERR_INVALID, c.option(OPT_LIST, new byte[1]).get(0).type());
            assertEquals(REP_ERR_INVALID, c.option(OPT_GO, new byte[3]).get(0).type());
            assertEquals(REP_ERR_TOO_BIG, c.option(OPT_GO, new byte[MAX_OPTION_DATA_BYTES + 1]).get(0).type());
            c.go("s/m0");
            assertArrayEquals(new byte[8], c.read(8, 8));
        }
    }

    // ---- transmission on a member ----

    @Test
    void writeReadsBackThroughNbdAndReachesTheSet() throws IOException {
        byte[] data = pattern(8192, 5);
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            long before = set.lastSeq();
            assertEquals(0, c.write(0, 4096, data));
            assertArrayEquals(data, c.read(4096, data.length));
            assertEquals(before + 1, set.lastSeq(), "the write was captured");
            ByteBuffer direct = ByteBuffer.allocate(data.length);
            set.device("m0").read(4096, direct);
            assertArrayEquals(data, direct.array());
        }
    }

    @Test
    void flushMakesAnsweredWritesDurable() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            assertEquals(0, c.write(0, 0, pattern(4096, 1)));
            assertTrue(set.flushedSeq() < set.lastSeq(), "a write without FUA is not forced");
            assertEquals(0, c.simple(0, CMD_FLUSH, 0, 0));
            assertEquals(set.lastSeq(), set.flushedSeq());
        }
    }

    @Test
    void fuaWriteIsDurableWhenAnswered() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            assertEquals(0, c.write(CMD_FLAG_FUA, 0, pattern(4096, 1)));
            assertEquals(set.lastSeq(), set.flushedSeq());
            assertEquals(0, c.simple(CMD_FLAG_FUA, CMD_TRIM, 8192, 4096));
            assertEquals(set.lastSeq(), set.flushedSeq());
        }
    }

    @Test
    void trimmedAndZeroedRangesReadAsZeros() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            byte[] data = pattern(64 << 10, 9);
            assertEquals(0, c.write(0, 0, data));
            assertEquals(0, c.simple(0, CMD_TRIM, 0, 16 << 10));
            assertEquals(0, c.simple(CMD_FLAG_NO_HOLE, CMD_WRITE_ZEROES, 16 << 10, 16 << 10));
            assertEquals(0, c.simple(CMD_FLAG_FUA, CMD_WRITE_ZEROES, 32 << 10, 16 << 10));
            byte[] expected = data.clone();
            Arrays.fill(expected, 0, 48 << 10, (byte) 0);
            assertArrayEquals(expected, c.read(0, 64 << 10));
        }
    }

    @Test
    void fastZeroIsRefusedWithEnotsupAndChangesNothing() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            byte[] data = pattern(4096, 3);
            assertEquals(0, c.write(0, 0, data));
            long seq = set.lastSeq();
            assertEquals(ENOTSUP, c.simple(CMD_FLAG_FAST_ZERO, CMD_WRITE_ZEROES, 0, 4096));
            assertEquals(seq, set.lastSeq());
            assertArrayEquals(data, c.read(0, 4096));
        }
    }

    @Test
    void requestsBeyondTheEndOrTooLargeAreRefusedAndTheConnectionGoesOn() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            long seq = set.lastSeq();
            assertEquals(EINVAL, c.simple(0, CMD_READ, M0_BYTES - 512, 1024));
            assertEquals(EINVAL, c.simple(0, CMD_TRIM, M0_BYTES, 1));
            assertEquals(ENOSPC, c.write(0, M0_BYTES - 100, new byte[200]));
            assertEquals(ENOSPC, c.simple(0, CMD_WRITE_ZEROES, M0_BYTES, 512));
            assertEquals(EINVAL, c.simple(0, CMD_READ, 0, (32 << 20) + 1));
            assertEquals(seq, set.lastSeq(), "nothing reached the journal");
            assertArrayEquals(new byte[512], c.read(M0_BYTES - 512, 512));
        }
    }

    @Test
    void unknownCommandsAndFlagsAreEinval() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            assertEquals(EINVAL, c.simple(0, 5, 0, 512));
            assertEquals(EINVAL, c.simple(0, 42, 0, 512));
            assertEquals(EINVAL, c.simple(1 << 6, CMD_READ, 0, 512));
            assertEquals(EINVAL, c.simple(CMD_FLAG_DF, CMD_READ, 0, 512), "DF needs structured replies");
            assertEquals(EINVAL, c.simple(0, CMD_BLOCK_STATUS, 0, 512), "no metadata context selected");
            assertArrayEquals(new byte[512], c.read(0, 512));
        }
    }

    @Test
    void badRequestMagicDropsOnlyThatConnection() throws IOException {
        try (NbdTestClient bad = NbdTestClient.connect(server.port()); NbdTestClient good = NbdTestClient.connect(server.port())) {
            bad.go("s/m0");
            good.go("s/m0");
            byte[] request = request(0, CMD_READ, 1, 0, 512);
            request[0] = 0;
            bad.out.write(request);
            bad.out.flush();
            assertTrue(bad.isClosedByServer());
            assertArrayEquals(new byte[512], good.read(0, 512));
        }
    }

    @Test
    void writeLargerThan32MiBDropsTheConnection() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            c.request(0, CMD_WRITE, 1, 0, (32 << 20) + 1);
            assertTrue(c.isClosedByServer());
        }
    }

    // ---- the past, read-only ----

    @Test
    void pastExportServesTheOldBytesAndRefusesWritesWithEperm() throws Exception {
        byte[] old = pattern(4096, 1);
        byte[] now = pattern(4096, 2);
        long oldSeq;
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            assertEquals(0, c.write(0, 0, old));
            oldSeq = set.lastSeq();
            assertEquals(0, c.write(0, 0, now));
        }
        bookmarks.put("before", oldSeq);
        Thread.sleep(5);
        String instantNow = Instant.now().toString();
        for (String name : List.of("s/m0@" + oldSeq, "s/m0@bookmark:before")) {
            try (NbdTestClient c = NbdTestClient.connect(server.port())) {
                ExportInfo info = c.go(name);
                assertEquals(FLAG_HAS_FLAGS | FLAG_READ_ONLY | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_CAN_MULTI_CONN, info.flags(), name);
                assertArrayEquals(old, c.read(0, 4096), name);
                long seq = set.lastSeq();
                assertEquals(EPERM, c.write(0, 0, now), name);
                assertEquals(EPERM, c.simple(0, CMD_TRIM, 0, 4096), name);
                assertEquals(EPERM, c.simple(0, CMD_WRITE_ZEROES, 0, 4096), name);
                assertEquals(0, c.simple(0, CMD_FLUSH, 0, 0), name);
                assertEquals(seq, set.lastSeq(), "nothing was written through " + name);
                assertArrayEquals(old, c.read(0, 4096), name);
            }
        }
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0@time:" + instantNow);
            assertArrayEquals(now, c.read(0, 4096));
        }
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0@0");
            assertArrayEquals(new byte[4096], c.read(0, 4096), "seq 0 is the set as it was created");
        }
    }

    // ---- concurrency ----

    @Test
    void theClientsInTransmissionAreListedByExportWithTheirAddressAndOnlyThoseAndDroppingTheLiveOnesLeavesThePast() throws IOException {
        try (NbdTestClient a = NbdTestClient.connect(server.port()); NbdTestClient b = NbdTestClient.connect(server.port());
             NbdTestClient handshaking = NbdTestClient.connect(server.port())) {
            a.go("s/m1");
            b.go("s/m0@0");
            assertEquals(List.of(new NbdServer.Client("s/m0@0", String.valueOf(b.socket.getLocalSocketAddress()), true),
                    new NbdServer.Client("s/m1", String.valueOf(a.socket.getLocalSocketAddress()), false)), server.clients("s"));
            assertEquals(List.of(), server.clients("t"));
            server.disconnectLive("s");
            assertEquals(List.of(new NbdServer.Client("s/m0@0", String.valueOf(b.socket.getLocalSocketAddress()), true)),
                    server.clients("s"), "dropping the set's live clients leaves the readers of its past");
            assertArrayEquals(new byte[4096], b.read(0, 4096), "and they keep reading");
            server.disconnect("s");
            assertEquals(List.of(), server.clients("s"), "disconnected clients are gone from the list");
        }
    }

    @Test
    void twoConnectionsShareTheSetAndAreCountedAndDisconnectedTogether() throws IOException {
        try (NbdTestClient a = NbdTestClient.connect(server.port()); NbdTestClient b = NbdTestClient.connect(server.port());
             NbdTestClient handshaking = NbdTestClient.connect(server.port())) {
            a.go("s/m0");
            b.go("s/m0@0");
            assertEquals(2, server.connectionCount("s"));
            assertEquals(0, server.connectionCount("t"));
            try (NbdTestClient c = NbdTestClient.connect(server.port())) {
                c.go("s/m0");
                assertEquals(0, a.write(CMD_FLAG_FUA, 0, pattern(512, 4)));
                assertArrayEquals(pattern(512, 4), c.read(0, 512), "visible on another connection");
                assertEquals(3, server.connectionCount("s"));
            }
            server.disconnect("s");
            assertEquals(0, server.connectionCount("s"));
            assertTrue(a.isClosedByServer());
            assertTrue(b.isClosedByServer());
            assertEquals(REP_ACK, handshaking.option(OPT_STRUCTURED_REPLY, new byte[0]).get(0).type(), "not on a set yet: untouched");
        }
        try (NbdTestClient again = NbdTestClient.connect(server.port())) {
            again.go("s/m0");
            assertArrayEquals(pattern(512, 4), again.read(0, 512));
        }
    }

    @Test
    void manyRequestsInFlightAreAllAnsweredByHandle() throws IOException {
        Random random = new Random(42);
        int requests = 400;
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.go("s/m0");
            Map<Long, byte[]> written = new HashMap<>();
            for (long h = 0; h < requests; h++) {
                byte[] data = new byte[4096];
                random.nextBytes(data);
                written.put(h, data);
                c.out.write(write(0, h, h * 4096, data));
            }
            c.out.flush();
            List<Long> order = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                SimpleReply r = c.readSimpleReply();
                assertEquals(0, r.error());
                order.add(r.handle());
            }
            assertEquals(requests, order.stream().distinct().count(), "one reply per handle");
            for (long h = 0; h < requests; h++) {
                c.out.write(request(0, CMD_READ, h, h * 4096, 4096));
            }
            c.out.flush();
            for (int i = 0; i < requests; i++) {
                SimpleReply r = c.readSimpleReply();
                assertEquals(0, r.error());
                byte[] data = new byte[4096];
                c.in.readFully(data);
                assertArrayEquals(written.remove(r.handle()), data, "handle " + r.handle());
            }
            assertTrue(written.isEmpty());
        }
    }

    // ---- structured replies and block status ----

    @Test
    void structuredRepliesCarryReadDataInOneChunkAndErrorsWithMessages() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.structuredReplies();
            ExportInfo info = c.go("s/m0");
            assertTrue(info.has(FLAG_SEND_DF));
            byte[] data = pattern(10000, 6);
            assertEquals(0, c.write(0, 777, data));

            for (int flags : new int[] {0, CMD_FLAG_DF}) {
                c.request(flags, CMD_READ, 11, 777, data.length);
                Chunk chunk = c.readChunk();
                assertEquals(REPLY_TYPE_OFFSET_DATA, chunk.type());
                assertTrue(chunk.isDone());
                assertEquals(11, chunk.handle());
                ByteBuffer payload = chunk.buffer();
                assertEquals(777, payload.getLong());
                assertEquals(ByteBuffer.wrap(data), payload);
            }

            c.request(0, CMD_READ, 12, M0_BYTES, 1);
            Chunk error = c.readChunk();
            assertTrue(error.isDone());
            assertEquals(12, error.handle());
            assertEquals(EINVAL, error.error());
            assertTrue(error.errorMessage().contains("beyond the end"), error.errorMessage());

            c.request(0, CMD_READ, 13, 0, 0);
            Chunk none = c.readChunk();
            assertEquals(REPLY_TYPE_NONE, none.type());
            assertTrue(none.isDone());
            assertEquals(0, none.payload().length);

            c.request(0, 99, 14, 0, 0);
            assertEquals(EINVAL, c.readChunk().error());
        }
    }

    @Test
    void blockStatusReportsAllocatedDataAfterSetMetaContext() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.structuredReplies();
            for (byte[] data : List.of(metaContextData("s/m0"), metaContextData("s/m0", "base:"), metaContextData("s/m0", "base:allocation"))) {
                List<OptionReply> listed = c.option(OPT_LIST_META_CONTEXT, data);
                assertEquals(2, listed.size());
                assertEquals(REP_META_CONTEXT, listed.get(0).type());
                assertEquals(BASE_ALLOCATION, new String(listed.get(0).data(), 4, listed.get(0).data().length - 4, StandardCharsets.UTF_8));
            }
            assertEquals(1, c.option(OPT_LIST_META_CONTEXT, metaContextData("s/m0", "qemu:dirty-bitmap:x")).size(), "nothing else is offered");

            List<OptionReply> set = c.option(OPT_SET_META_CONTEXT, metaContextData("s/m0", "x-other:thing", BASE_ALLOCATION, "base:"));
            assertEquals(2, set.size());
            assertEquals(REP_META_CONTEXT, set.get(0).type());
            int contextId = set.get(0).buffer().getInt();
            assertEquals(REP_ACK, set.get(1).type());
            c.go("s/m0");

            for (int flags : new int[] {0, CMD_FLAG_REQ_ONE}) {
                c.request(flags, CMD_BLOCK_STATUS, 21, 4096, 1 << 20);
                Chunk status = c.readChunk();
                assertEquals(REPLY_TYPE_BLOCK_STATUS, status.type());
                assertTrue(status.isDone());
                assertEquals(21, status.handle());
                ByteBuffer b = status.buffer();
                assertEquals(12, b.remaining());
                assertEquals(List.of(contextId, 1 << 20, 0), List.of(b.getInt(), b.getInt(), b.getInt()));
            }
            c.request(0, CMD_BLOCK_STATUS, 22, M0_BYTES - 512, 1024);
            assertEquals(EINVAL, c.readChunk().error());
        }
    }

    @Test
    void blockStatusNeedsTheContextSetForTheSameExportWithStructuredReplies() throws IOException {
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            assertEquals(REP_ERR_INVALID, c.option(OPT_SET_META_CONTEXT, metaContextData("s/m0", BASE_ALLOCATION)).get(0).type());
            c.structuredReplies();
            assertEquals(REP_ERR_UNKNOWN, c.option(OPT_SET_META_CONTEXT, metaContextData("s/nope", BASE_ALLOCATION)).get(0).type());
            assertEquals(2, c.option(OPT_SET_META_CONTEXT, metaContextData("s/m1", BASE_ALLOCATION)).size());
            c.go("s/m0");
            c.request(0, CMD_BLOCK_STATUS, 1, 0, 4096);
            Chunk error = c.readChunk();
            assertEquals(EINVAL, error.error());
        }
        try (NbdTestClient c = NbdTestClient.connect(server.port())) {
            c.structuredReplies();
            assertEquals(2, c.option(OPT_SET_META_CONTEXT, metaContextData("s/m0", BASE_ALLOCATION)).size());
            assertEquals(REP_ERR_INVALID, c.option(OPT_SET_META_CONTEXT, new byte[3]).get(0).type());
            c.go("s/m0");
            c.request(0, CMD_BLOCK_STATUS, 2, 0, 4096);
            assertEquals(EINVAL, c.readChunk().error(), "the failed SET_META_CONTEXT replaced the selection");
        }
    }

    private static Map<Integer, ByteBuffer> infoItems(ExportInfo info) {
        Map<Integer, ByteBuffer> items = new HashMap<>();
        for (OptionReply r : info.replies()) {
            if (r.type() == REP_INFO) {
                ByteBuffer b = r.buffer();
                items.put((int) b.getShort(), b.slice());
            }
        }
        return items;
    }
}
