package dev.rewind.capture.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to {@link Sandboxes}: an unknown set or sandbox, a malformed name, a name in use,
 * a seq beyond the newest write or inside the faded-out every-write history, a drop of a sandbox
 * that does not exist, I/O on a dropped sandbox. Each is refused with a one-line error that says
 * what was wrong, and nothing changes: neither the files under the sandbox root (nor beside it)
 * nor the catalog's rows nor production. And the pin: while a sandbox exists, the every-write
 * horizon keeps the journal its seq needs.
 *
 * <p>The set: two members, a clock the test moves, a cut every simulated minute (10 transactions
 * of 5 writes of 20 to 98 KiB each, so that the journal spans several 1 MiB segments), 3 writes after the last cut.
 */
class SandboxesTest {
    private static final int MINUTES = 10;
    private static final int WRITES_PER_MINUTE = 5;

    @TempDir
    Path tmp;

    private final List<ImageModel> images = new ArrayList<>();
    private MovingClock clock;
    private CaptureOptions options;
    private TestSet t;
    private CapturedSet set;
    private Path area;
    private Path root;
    private Sandboxes sandboxes;

    @BeforeEach
    void history() throws IOException {
        clock = MovingClock.at(Instant.parse("2030-01-01T00:00:00Z"));
        options = new CaptureOptions(1L << 20, clock, Duration.ZERO).withCodec(IncrementCodec.NONE);
        t = TestSet.create(tmp.resolve("set"), "s", 256 << 10, 320 << 10);
        set = openSet(options);
        images.add(ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray()));
        int n = 0;
        for (int minute = 0; minute < MINUTES; minute++) {
            clock.advance(Duration.ofMinutes(1));
            for (int i = 0; i < WRITES_PER_MINUTE; i++) {
                write(n++);
            }
            set.cut(CutReason.DEMAND).orElseThrow();
        }
        clock.advance(Duration.ofMinutes(1));
        for (int i = 0; i < 3; i++) {
            write(n++);
        }
        area = tmp.resolve("area");
        root = area.resolve("sandboxes");
        sandboxes = Sandboxes.open(root, t.catalog);
    }

    /** Opens the set as the data dir does (CatalogCapture): the catalog's sandboxes pin the history they read. */
    private CapturedSet openSet(CaptureOptions o) throws IOException {
        CapturedSet s = t.open(o);
        s.historyPins(() -> t.catalog.historyPins("s"));
        return s;
    }

    /** Write {@code n}: a pattern of {@code n + 1} over an odd range of one member, so that every seq differs from its neighbours. */
    private void write(int n) throws IOException {
        int m = n % 2;
        BlockDevice d = set.devices().get(m);
        byte[] data = new byte[20_000 + 7_777 * (n % 11)];
        Arrays.fill(data, (byte) (n + 1));
        long off = (n * 12_347L) % (d.sizeBytes() - data.length);
        long seq = d.write(off, ByteBuffer.wrap(data), false);
        assertEquals(images.size(), seq, "writes take consecutive seqs");
        images.add(images.get(images.size() - 1).write(m, off, data));
    }

    @AfterEach
    void close() throws IOException {
        if (sandboxes != null) {
            sandboxes.close();
        }
        if (set != null) {
            set.close();
        }
        t.close();
    }

    private long head() {
        return images.size() - 1;
    }

    /** What a refusal must leave as it was. */
    private record State(Map<String, Long> files, List<SandboxRecord> rows, long lastSeq, Map<String, String> journal) {
    }

    private State state() throws IOException {
        return new State(SandboxFiles.listing(area), t.catalog.sandboxes().list(null), set.lastSeq(), SandboxFiles.journalDigest(set));
    }

    /** {@code bad} fails with a one-line RewindException whose message holds every {@code words}; nothing changed. */
    private RewindException refused(String what, Executable bad, String... words) throws IOException {
        State before = state();
        RewindException e = assertThrows(RewindException.class, bad, what + " is refused");
        String message = e.getMessage();
        assertFalse(message == null || message.isBlank(), what + ": the error says something");
        assertFalse(message.contains("\n"), what + ": the error is one line: " + message);
        for (String w : words) {
            assertTrue(message.contains(w), what + ": the error names '" + w + "': " + message);
        }
        assertEquals(before, state(), what + ": nothing changed on disk, in the catalog or in the journal");
        images.get((int) head()).assertPrimaryEquals(set, what + ": production is as it was");
        return e;
    }

    @Test
    void malformedNamesAreRefusedAndCreateNothing() throws IOException {
        for (String name : List.of("", "-x", ".hidden", "+p", "a/b", "../escape", "..", "sp ace", "semi;colon", "x".repeat(65), "naïve")) {
            refused("sandbox name '" + name + "'", () -> sandboxes.create(set, name, 3, "3"), "name");
        }
        refused("a null sandbox name", () -> sandboxes.create(set, null, 3, "3"), "name");
        assertTrue(sandboxes.list(null).isEmpty(), "no sandbox was made");
    }

    @Test
    void aNameInUseIsRefusedAndTheSandboxOfThatNameKeepsItsWrites() throws IOException {
        SandboxRecord first = sandboxes.create(set, "dup", 7, "7");
        ImageModel expected;
        try (Sandbox sb = sandboxes.open(set, "dup")) {
            byte[] data = new byte[1000];
            Arrays.fill(data, (byte) 0x7e);
            sb.members().get(1).write(5, ByteBuffer.wrap(data), true);
            expected = images.get(7).write(1, 5, data);
        }
        refused("a second sandbox named dup", () -> sandboxes.create(set, "dup", 12, "12"), "dup");
        assertEquals(first, sandboxes.find("s", "dup"), "the first sandbox is as it was");
        try (Sandbox sb = sandboxes.open(set, "dup")) {
            SandboxFiles.assertReads(sb, expected, "sandbox dup after a refused second create");
        }
    }

    @Test
    void seqsTheSetCannotBringBackAreRefused() throws IOException {
        long head = head();
        refused("a seq beyond the newest write", () -> sandboxes.create(set, "future", head + 1, Long.toString(head + 1)),
                "seq " + (head + 1));
        refused("a seq far beyond the newest write", () -> sandboxes.create(set, "far", Long.MAX_VALUE, "huge"));
        refused("a negative seq", () -> sandboxes.create(set, "negative", -1, "-1"));
    }

    @Test
    void aSeqInsideTheFadedOutEveryWriteHistoryIsRefusedButItsBoundariesAreNot() throws IOException {
        clock.advance(Duration.ofMinutes(30));
        set.keepEveryWrite(Duration.ofMinutes(5));
        long oldestExact = set.oldestExactSeq();
        assertTrue(oldestExact > WRITES_PER_MINUTE, "the horizon faded out some writes: oldest exact seq " + oldestExact);
        Transaction faded = set.transactions().get(0);
        long inside = faded.firstSeq() + 1;
        assertTrue(inside < faded.lastSeq() && inside < oldestExact, "seq " + inside + " is inside the faded-out " + faded);
        refused("a seq inside the faded-out history", () -> sandboxes.create(set, "faded", inside, Long.toString(inside)),
                "seq " + inside);
        SandboxRecord boundary = sandboxes.create(set, "boundary", faded.lastSeq(), Long.toString(faded.lastSeq()));
        try (Sandbox sb = sandboxes.open(set, boundary.name())) {
            SandboxFiles.assertReads(sb, images.get((int) faded.lastSeq()), "a sandbox at the boundary " + faded.lastSeq());
        }
    }

    @Test
    void unknownSetsAndSandboxesAreRefusedByFindOpenAndDrop() throws IOException {
        sandboxes.create(set, "known", 4, "4");
        refused("find of an unknown sandbox", () -> sandboxes.find("s", "unknown"), "unknown");
        refused("find in an unknown set", () -> sandboxes.find("nope", "known"), "nope");
        refused("open of an unknown sandbox", () -> sandboxes.open(set, "unknown"), "unknown");
        refused("drop of an unknown sandbox", () -> sandboxes.drop("s", "unknown"), "unknown");
        refused("drop in an unknown set", () -> sandboxes.drop("nope", "known"), "nope");
        assertTrue(sandboxes.list("nope").isEmpty(), "an unknown set has no sandboxes");
        assertEquals(List.of("known"), sandboxes.list(null).stream().map(SandboxRecord::name).toList(), "the known sandbox is still there");
        sandboxes.drop("s", "known");
        refused("a second drop", () -> sandboxes.drop("s", "known"), "known");
    }

    @Test
    void everyRequestOnADroppedSandboxFailsSayingSoAndReachesNothing() throws IOException {
        sandboxes.create(set, "gone", 9, "9");
        Sandbox sb = sandboxes.open(set, "gone");
        try {
            sb.members().get(0).write(0, ByteBuffer.wrap(new byte[] {1, 2, 3}), false);
            assertTrue(sandboxes.isOpen("s", "gone"), "the sandbox is open");
            SandboxRecord record = sb.record();
            Map<String, String> journal = SandboxFiles.journalDigest(set);
            sandboxes.drop("s", "gone");
            SandboxFiles.assertGone(root, t.catalog, record, "a drop with a handle open");
            for (BlockDevice d : sb.members()) {
                List<Executable> requests = List.of(
                        () -> d.read(0, ByteBuffer.allocate(4096)),
                        () -> d.write(4096, ByteBuffer.wrap(new byte[4096]), false),
                        () -> d.write(0, ByteBuffer.wrap(new byte[1]), true),
                        () -> d.trim(0, 4096, false),
                        () -> d.writeZeroes(8192, 4096, false),
                        d::flush);
                for (int i = 0; i < requests.size(); i++) {
                    IOException e = assertThrows(IOException.class, requests.get(i), "request " + i + " on " + d.name() + " of a dropped sandbox");
                    assertTrue(e.getMessage() != null && e.getMessage().contains("dropped") && !e.getMessage().contains("\n"),
                            "the error says in one line that the sandbox was dropped: " + e.getMessage());
                }
            }
            SandboxFiles.assertGone(root, t.catalog, record, "after requests on the dropped sandbox");
            assertEquals(journal, SandboxFiles.journalDigest(set), "the journal is as it was");
            images.get((int) head()).assertPrimaryEquals(set, "production is as it was");
        } finally {
            sb.close();
        }
        assertFalse(sandboxes.isOpen("s", "gone"), "a dropped sandbox is open no more");
    }

    @Test
    void handlesAreShared() throws IOException {
        sandboxes.create(set, "shared", 11, "11");
        assertFalse(sandboxes.isOpen("s", "shared"), "creating a sandbox does not open it");
        try (Sandbox a = sandboxes.open(set, "shared"); Sandbox b = sandboxes.open(set, "shared")) {
            assertTrue(sandboxes.isOpen("s", "shared"));
            byte[] data = new byte[777];
            Arrays.fill(data, (byte) 0x31);
            a.member("m1").write(4097, ByteBuffer.wrap(data), false);
            SandboxFiles.assertReads(b, images.get(11).write(1, 4097, data), "a write through one handle is read through the other");
        }
        assertTrue(sandboxes.isOpen("s", "shared"), "closing a handle leaves the sandbox open for its other users");
        refused("an unknown member", () -> {
            try (Sandbox s = sandboxes.open(set, "shared")) {
                s.member("m9");
            }
        }, "m9");
    }

    @Test
    void theEveryWriteHorizonKeepsTheJournalASandboxNeeds() throws IOException {
        Transaction tx = set.transactions().get(1);
        long mid = tx.firstSeq() + 2;
        assertTrue(mid < tx.lastSeq(), "seq " + mid + " is inside " + tx);
        sandboxes.create(set, "pinned", mid, Long.toString(mid));
        clock.advance(Duration.ofMinutes(30));
        set.keepEveryWrite(Duration.ZERO);
        assertTrue(set.oldestExactSeq() <= mid, "the horizon stops at the sandbox's seq " + mid + ": oldest exact seq " + set.oldestExactSeq());
        try (Sandbox sb = sandboxes.open(set, "pinned")) {
            SandboxFiles.assertReads(sb, images.get((int) mid), "a sandbox inside a transaction after keepEveryWrite(0)");
        }

        // a restart with the horizon in the options, and a cut that applies it again, keep the pin too
        sandboxes.close();
        set.close();
        set = openSet(options.withKeepEveryWrite(Duration.ZERO));
        sandboxes = Sandboxes.open(root, t.catalog);
        clock.advance(Duration.ofMinutes(1));
        write((int) head());
        set.cut(CutReason.DEMAND).orElseThrow();
        assertTrue(set.oldestExactSeq() <= mid, "after a restart and a cut the horizon still stops at seq " + mid + ": " + set.oldestExactSeq());
        try (Sandbox sb = sandboxes.open(set, "pinned")) {
            SandboxFiles.assertReads(sb, images.get((int) mid), "the pinned sandbox after a restart and a cut");
        }

        // once the sandbox is dropped, the horizon frees the journal it held
        sandboxes.drop("s", "pinned");
        set.keepEveryWrite(Duration.ZERO);
        assertTrue(set.oldestExactSeq() > mid, "without the sandbox the horizon moves past seq " + mid + ": " + set.oldestExactSeq());
    }
}
