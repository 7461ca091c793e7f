package dev.rewind.capture.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.nbd.CapturedSetExports;
import dev.rewind.capture.nbd.NbdServer;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.nbd.NbdTestClient;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test of sandboxes: a seeded random workload of production writes, trims,
 * write-zeroes, flushes and cuts on a 2-3 member set (so the past is read through the journal,
 * backward increments and the replica) runs beside sandboxes created at random seqs (0, the
 * head, transaction boundaries and seqs inside a transaction), each with a model of its own:
 * the image at its seq plus its own writes, trims and zeroes at unaligned offsets and lengths,
 * made in process and through its NBD export. Every sandbox reads as its model, whatever
 * production does meanwhile; nothing a sandbox does changes the primary, the journal (its last
 * seq and every byte of its files) or what the live export serves; a dropped sandbox leaves no
 * row, no directory and no file; closing and reopening the set and the sandboxes (a daemon
 * restart) keeps every flushed sandbox write.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=200}.
 */
class SandboxModelTest {
    private static final long KIB = 1024;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x5A4D_0001L, 16);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void sandboxesReadTheirPastAndTheirOwnWritesAndNeverTouchProduction(long seed) throws IOException {
        new Run(seed, tmp).run();
    }

    /** An open sandbox and its model. */
    private static final class Live {
        SandboxRecord record;
        Sandbox handle;
        ImageModel image;

        Live(SandboxRecord record, Sandbox handle, ImageModel image) {
            this.record = record;
            this.handle = handle;
            this.image = image;
        }
    }

    /** One seed's workload: the set, its sandboxes, their models and the checks. */
    private static final class Run {
        final long seed;
        final Path tmp;
        final Random r;
        final TreeMap<Long, ImageModel> known = new TreeMap<>();
        final Map<String, Live> live = new TreeMap<>();
        Path root;
        TestSet t;
        CaptureOptions options;
        CapturedSet set;
        Sandboxes sandboxes;
        NbdServer server;
        ImageModel current;
        long head;
        int nextName;
        int created;
        int dropped;
        int sandboxOps;
        int reopens;

        Run(long seed, Path tmp) {
            this.seed = seed;
            this.tmp = tmp;
            this.r = new Random(seed);
        }

        String at(String what) {
            return Seeds.describe(seed) + ", head seq " + head + ": " + what;
        }

        void run() throws IOException {
            int memberCount = 2 + r.nextInt(2);
            long[] requested = new long[memberCount];
            for (int m = 0; m < memberCount; m++) {
                requested[m] = 128 * KIB + r.nextInt((int) (896 * KIB));
            }
            options = new CaptureOptions(1L << 20, Clock.systemUTC(), r.nextBoolean() ? Duration.ofMillis(10) : Duration.ofSeconds(30))
                    .withSpanFanout(2 + r.nextInt(3));
            t = TestSet.create(tmp.resolve("set"), "s", requested);
            root = tmp.resolve("sandboxes");
            try {
                openAll();
                current = ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray());
                known.put(0L, current);
                workload(250 + r.nextInt(200));
                finalChecks();
            } finally {
                closeAll();
                t.close();
            }
        }

        void openAll() throws IOException {
            set = t.open(options);
            sandboxes = Sandboxes.open(root, t.catalog);
            server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0),
                    new CapturedSetExports(Map.of("s", set), (s, b) -> OptionalLong.empty(), sandboxes), NbdServer.TcpWrites.ANY_CLIENT);
            for (Live l : live.values()) {
                l.handle = sandboxes.open(set, l.record.name());
            }
        }

        void closeAll() throws IOException {
            if (server != null) {
                server.close();
                server = null;
            }
            for (Live l : live.values()) {
                if (l.handle != null) {
                    l.handle.close();
                    l.handle = null;
                }
            }
            if (sandboxes != null) {
                sandboxes.close();
                sandboxes = null;
            }
            if (set != null) {
                set.close();
                set = null;
            }
        }

        void workload(int ops) throws IOException {
            for (int i = 0; i < ops; i++) {
                int k = r.nextInt(100);
                if (k < 28) {
                    productionWrite();
                } else if (k < 33) {
                    productionZero(true);
                } else if (k < 37) {
                    productionZero(false);
                } else if (k < 44) {
                    set.cut(CutReason.DEMAND);
                } else if (k < 47) {
                    set.flush();
                } else if (k < 55) {
                    createSandbox();
                } else if (k < 80) {
                    sandboxBurst();
                } else if (k < 87) {
                    checkRandomSandboxWhole();
                } else if (k < 91) {
                    dropRandomSandbox();
                } else if (k < 93) {
                    restart();
                } else {
                    productionWrite();
                }
            }
        }

        // ---- production ----

        int writeLength(long memberSize) {
            int len = switch (r.nextInt(4)) {
                case 0 -> 1 + r.nextInt(512);
                case 1 -> 1 + r.nextInt(16 << 10);
                case 2 -> 4096 * (1 + r.nextInt(16));
                default -> 1 + r.nextInt(200 << 10);
            };
            return (int) Math.min(len, memberSize);
        }

        long offset(long memberSize, long len) {
            long room = memberSize - len;
            long off = r.nextBoolean() ? (long) (r.nextDouble() * (room + 1)) / 4096 * 4096 : (long) (r.nextDouble() * (room + 1));
            return Math.max(0, Math.min(room, off));
        }

        void productionWrite() throws IOException {
            int m = r.nextInt(current.memberCount());
            BlockDevice d = set.devices().get(m);
            int len = writeLength(d.sizeBytes());
            long off = offset(d.sizeBytes(), len);
            byte[] data = new byte[len];
            r.nextBytes(data);
            long seq = d.write(off, ByteBuffer.wrap(data), r.nextInt(8) == 0);
            advance(seq, current.write(m, off, data));
        }

        void productionZero(boolean trim) throws IOException {
            int m = r.nextInt(current.memberCount());
            BlockDevice d = set.devices().get(m);
            long len = writeLength(d.sizeBytes());
            long off = offset(d.sizeBytes(), len);
            long seq = trim ? d.trim(off, len, false) : d.writeZeroes(off, len, false);
            advance(seq, current.zero(m, off, len));
        }

        void advance(long seq, ImageModel next) {
            assertEquals(head + 1, seq, at("a production write takes the next seq"));
            head = seq;
            current = next;
            known.put(seq, next);
        }

        // ---- sandboxes ----

        /** 0, the head, a transaction boundary, a seq inside a transaction, or any seq. */
        long sandboxSeq() {
            List<Transaction> txs = set.transactions();
            int k = r.nextInt(5);
            if (k == 0) {
                return r.nextBoolean() ? 0 : head;
            }
            if (k == 1 && !txs.isEmpty()) {
                return txs.get(r.nextInt(txs.size())).lastSeq();
            }
            if (k == 2 && !txs.isEmpty()) {
                Transaction tx = txs.get(r.nextInt(txs.size()));
                return tx.firstSeq() + (long) (r.nextDouble() * (tx.lastSeq() - tx.firstSeq() + 1));
            }
            return (long) (r.nextDouble() * (head + 1));
        }

        void createSandbox() throws IOException {
            if (live.size() >= 4) {
                return;
            }
            long seq = sandboxSeq();
            String name = "sb" + nextName++;
            SandboxRecord rec = sandboxes.create(set, name, seq, Long.toString(seq));
            created++;
            String what = "sandbox " + name + " at seq " + seq;
            assertEquals("s", rec.setName(), at(what));
            assertEquals(name, rec.name(), at(what));
            assertEquals(seq, rec.seq(), at(what));
            assertEquals(Long.toString(seq), rec.point(), at(what));
            assertEquals(rec, sandboxes.find("s", name), at(what + ": find"));
            assertTrue(sandboxes.list("s").contains(rec), at(what + ": list"));
            assertEquals(rec, t.catalog.sandboxes().find("s", name).orElseThrow(), at(what + ": the catalog row"));
            assertEquals(0, sandboxes.overlayBytes(rec), at(what + ": a fresh sandbox holds no bytes of its own"));
            Sandbox handle = sandboxes.open(set, name);
            assertEquals(rec, handle.record(), at(what + ": the handle's record"));
            Live l = new Live(rec, handle, known.get(seq));
            live.put(name, l);
            SandboxFiles.assertReads(handle, l.image, at(what + ", fresh"));
        }

        Live randomLive() {
            List<Live> all = new ArrayList<>(live.values());
            return all.get(r.nextInt(all.size()));
        }

        /**
         * A few random operations on sandboxes, with production idle: the journal's last seq and
         * files, the primary and the live export are the same afterwards.
         */
        void sandboxBurst() throws IOException {
            if (live.isEmpty()) {
                createSandbox();
                return;
            }
            boolean digest = r.nextInt(3) == 0;
            Map<String, String> journalBefore = digest ? quietJournal() : null;
            long lastBefore = set.lastSeq();
            for (int i = 0, n = 1 + r.nextInt(6); i < n; i++) {
                Live l = randomLive();
                if (r.nextInt(5) == 0) {
                    sandboxOpOverNbd(l);
                } else {
                    sandboxOp(l);
                }
                sandboxOps++;
            }
            String what = "after sandbox writes";
            assertEquals(lastBefore, set.lastSeq(), at(what + ": the journal's last seq"));
            if (digest) {
                assertEquals(journalBefore, SandboxFiles.journalDigest(set), at(what + ": the journal's files, byte for byte"));
            }
            if (r.nextInt(3) == 0) {
                current.assertPrimaryEquals(set, at(what + ": the primary"));
            }
            checkLiveExport(what);
        }

        /**
         * The journal's files once production is quiet: a flush and a checkpoint append their marks
         * now, so that the background checkpointer has nothing left to mark while sandboxes work.
         */
        Map<String, String> quietJournal() throws IOException {
            set.flush();
            set.checkpoint();
            return SandboxFiles.journalDigest(set);
        }

        void sandboxOp(Live l) throws IOException {
            int m = r.nextInt(l.image.memberCount());
            BlockDevice d = l.handle.members().get(m);
            assertEquals(d.name(), l.handle.member(d.name()).name(), at("member by name"));
            long size = d.sizeBytes();
            int k = r.nextInt(100);
            String name = l.record.name();
            if (k < 60) {
                int len = writeLength(size);
                long off = offset(size, len);
                byte[] data = new byte[len];
                r.nextBytes(data);
                assertEquals(0, d.write(off, ByteBuffer.wrap(data), r.nextInt(6) == 0), at("a sandbox write is not captured"));
                l.image = l.image.write(m, off, data);
                assertTrue(sandboxes.overlayBytes(l.record) > 0, at("sandbox " + name + " holds the bytes it was written"));
                SandboxFiles.assertReadsRange(d, l.image.bytes(m), off, len, at("sandbox " + name + " reads back its write"));
            } else if (k < 80) {
                long len = r.nextInt(5) == 0 ? 1 + (long) (r.nextDouble() * size) : writeLength(size);
                long off = offset(size, len);
                boolean trim = r.nextBoolean();
                assertEquals(0, trim ? d.trim(off, len, false) : d.writeZeroes(off, len, r.nextBoolean()),
                        at("a sandbox trim or write-zeroes is not captured"));
                l.image = l.image.zero(m, off, len);
            } else if (k < 90) {
                d.flush();
            } else {
                int len = writeLength(size);
                long off = offset(size, len);
                SandboxFiles.assertReadsRange(d, l.image.bytes(m), off, len, at("sandbox " + name + " read"));
            }
        }

        void sandboxOpOverNbd(Live l) throws IOException {
            int m = r.nextInt(l.image.memberCount());
            String member = set.devices().get(m).name();
            long size = set.devices().get(m).sizeBytes();
            String export = "s/" + member + "@" + Sandbox.EXPORT_MARK + l.record.name();
            try (NbdTestClient c = NbdTestClient.open(server.port(), export)) {
                assertEquals(size, c.sizeBytes(), at(export + ": size"));
                assertFalse(c.isReadOnly(), at(export + " is writable"));
                int len = writeLength(size);
                long off = offset(size, len);
                if (r.nextBoolean()) {
                    byte[] data = new byte[len];
                    r.nextBytes(data);
                    assertEquals(0, c.write(off, data), at(export + ": write"));
                    l.image = l.image.write(m, off, data);
                    if (r.nextBoolean()) {
                        assertEquals(0, c.flush(), at(export + ": flush"));
                    }
                }
                int readLen = writeLength(size);
                long readOff = offset(size, readLen);
                ImageModel.assertSameBytes(at(export + " read " + readOff + "+" + readLen),
                        Arrays.copyOfRange(l.image.bytes(m), (int) readOff, (int) readOff + readLen), c.read(readOff, readLen));
            }
        }

        void checkLiveExport(String what) throws IOException {
            int m = r.nextInt(current.memberCount());
            BlockDevice d = set.devices().get(m);
            int len = writeLength(d.sizeBytes());
            long off = offset(d.sizeBytes(), len);
            try (NbdTestClient c = NbdTestClient.open(server.port(), "s/" + d.name())) {
                ImageModel.assertSameBytes(at(what + ": the live export " + d.name() + " " + off + "+" + len),
                        Arrays.copyOfRange(current.bytes(m), (int) off, (int) off + len), c.read(off, len));
            }
        }

        void checkRandomSandboxWhole() throws IOException {
            if (live.isEmpty()) {
                return;
            }
            Live l = randomLive();
            SandboxFiles.assertReads(l.handle, l.image, at("sandbox " + l.record.name() + " at seq " + l.record.seq()));
        }

        void dropRandomSandbox() throws IOException {
            if (live.isEmpty()) {
                return;
            }
            Live l = randomLive();
            drop(l);
        }

        void drop(Live l) throws IOException {
            String name = l.record.name();
            Map<String, String> journalBefore = quietJournal();
            boolean closeFirst = r.nextBoolean();
            if (closeFirst) {
                l.handle.close();
            }
            sandboxes.drop("s", name);
            dropped++;
            live.remove(name);
            if (!closeFirst) {
                BlockDevice d = l.handle.members().get(0);
                IOException e = assertThrows(IOException.class, () -> d.read(0, ByteBuffer.allocate(512)),
                        at("a handle open on dropped sandbox " + name + " reads nothing"));
                assertTrue(e.getMessage().contains("dropped"), at("the error says the sandbox was dropped: " + e.getMessage()));
                assertThrows(IOException.class, () -> d.write(0, ByteBuffer.wrap(new byte[512]), false),
                        at("a handle open on dropped sandbox " + name + " writes nothing"));
                l.handle.close();
            }
            SandboxFiles.assertGone(root, t.catalog, l.record, at("drop of " + name));
            assertFalse(sandboxes.list(null).stream().anyMatch(x -> x.name().equals(name)), at("list after the drop of " + name));
            assertEquals(journalBefore, SandboxFiles.journalDigest(set), at("a drop leaves the journal as it was"));
            current.assertPrimaryEquals(set, at("a drop leaves the primary as it was"));
        }

        /** A daemon restart: every sandbox flushed, everything closed, then opened again. */
        void restart() throws IOException {
            for (Live l : live.values()) {
                for (BlockDevice d : l.handle.members()) {
                    d.flush();
                }
            }
            closeAll();
            openAll();
            reopens++;
            assertEquals(head, set.lastSeq(), at("lastSeq after a restart"));
            assertEquals(live.keySet().stream().toList(), sandboxes.list("s").stream().map(SandboxRecord::name).toList(),
                    at("every sandbox is there after a restart"));
            for (Live l : live.values()) {
                assertEquals(l.record, sandboxes.find("s", l.record.name()), at("record of " + l.record.name() + " after a restart"));
                SandboxFiles.assertReads(l.handle, l.image, at("sandbox " + l.record.name() + " after a restart"));
            }
            SandboxFiles.assertOnlyListedSandboxFiles(root, t.catalog, at("after a restart"));
        }

        void finalChecks() throws IOException {
            for (Live l : live.values()) {
                SandboxFiles.assertReads(l.handle, l.image, at("sandbox " + l.record.name() + " at the end"));
            }
            restart();
            for (Live l : new ArrayList<>(live.values())) {
                drop(l);
            }
            assertTrue(sandboxes.list(null).isEmpty(), at("no sandbox is left"));
            assertTrue(t.catalog.sandboxes().list(null).isEmpty(), at("no sandbox row is left"));
            assertTrue(SandboxFiles.listing(root).values().stream().allMatch(size -> size < 0),
                    at("no file is left under the sandbox root: " + SandboxFiles.listing(root)));
            current.assertPrimaryEquals(set, at("the primary at the end"));
            assertEquals(head, set.verify(), at("verify reads every record"));
            assertTrue(created > 0 && sandboxOps > 0, at("the workload made sandboxes and used them: " + created + " created, "
                    + sandboxOps + " operations, " + dropped + " dropped, " + reopens + " restarts"));
        }
    }
}
