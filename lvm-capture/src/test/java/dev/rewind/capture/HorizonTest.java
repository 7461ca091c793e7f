package dev.rewind.capture;

import dev.rewind.testfixtures.clock.MovingClock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The every-write horizon (issue 12, capability 6): with a clock the test moves, 1 MiB journal
 * segments and a cut every simulated minute, {@code keepEveryWrite} deletes the journal segments
 * whose writes are all older than the horizon and covered by transactions. The journal
 * directory's bytes drop by exactly the files deleted; every kept boundary and every kept exact
 * write still reads, clones and restores equal to the model; an exact write older than
 * {@code oldestExactSeq()} that is no boundary is refused naming the nearest boundaries, with
 * nothing changed; a reopen keeps all of it, and a later cut applies the horizon again.
 */
class HorizonTest {
    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x4082_0001L, 4);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void horizonFreesJournalAndKeepsBoundariesAndRecentWritesExact(long seed) throws IOException {
        Random r = new Random(seed);
        MovingClock clock = MovingClock.at(Instant.parse("2030-01-01T00:00:00Z"));
        CaptureOptions options = new CaptureOptions(1L << 20, clock, Duration.ZERO).withCodec(IncrementCodec.NONE);
        List<ImageModel> images = new ArrayList<>();
        Path journalDir = tmp.resolve("secondary").resolve("journal");
        try (TestSet t = TestSet.create(tmp, "s", 1 << 20, 1 << 20)) {
            CapturedSet set = t.open(options);
            try {
                images.add(ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray()));
                for (int minute = 0; minute < 12; minute++) {
                    clock.advance(Duration.ofMinutes(1));
                    for (int i = 0, n = 4 + r.nextInt(8); i < n; i++) {
                        write(set, images, r);
                    }
                    set.cut(CutReason.DEMAND).orElseThrow();
                }
                clock.advance(Duration.ofMinutes(1));
                for (int i = 0; i < 5; i++) {
                    write(set, images, r); // the open transaction: never covered, never deleted
                }
                String what = Seeds.describe(seed);
                assertEquals(0, set.oldestExactSeq(), what + ": before a horizon every write is exact");

                Map<Path, Long> before = files(journalDir);
                set.keepEveryWrite(Duration.ofMinutes(5));
                Map<Path, Long> after = files(journalDir);
                long deletedBytes = 0;
                for (Map.Entry<Path, Long> e : before.entrySet()) {
                    if (!after.containsKey(e.getKey())) {
                        deletedBytes += e.getValue();
                    }
                }
                assertTrue(deletedBytes > 0, what + ": segments older than the horizon went: " + before.keySet() + " -> " + after.keySet());
                assertTrue(before.keySet().containsAll(after.keySet()), what + ": the horizon adds no file");
                assertEquals(sum(before) - deletedBytes, sum(after), what + ": the journal directory shrinks by the files deleted");

                long oldestExact = set.oldestExactSeq();
                assertTrue(oldestExact > 0, what + ": writes before the horizon are no longer exact");
                assertTrue(boundaries(set).contains(oldestExact), what + ": the oldest exact seq " + oldestExact + " is a boundary");
                Instant horizon = clock.instant().minus(Duration.ofMinutes(5));
                for (Transaction tx : set.transactions()) {
                    if (tx.lastSeq() < oldestExact) {
                        assertTrue(tx.end().isBefore(horizon), what + ": only writes older than the horizon lose exactness: " + tx);
                    }
                }
                checkHistory(set, images, what + ", after keepEveryWrite", r);

                set.close();
                set = t.open(options.withKeepEveryWrite(Duration.ofMinutes(5)));
                assertEquals(oldestExact, set.oldestExactSeq(), what + ": the oldest exact write survives a reopen");
                assertEquals(images.size() - 1, set.lastSeq(), what + ": lastSeq survives a reopen");
                checkHistory(set, images, what + ", after a reopen", r);

                // time moves on: the next cut applies the horizon again
                clock.advance(Duration.ofMinutes(10));
                write(set, images, r);
                long journalBefore = sum(files(journalDir));
                set.cut(CutReason.DEMAND).orElseThrow();
                assertTrue(set.oldestExactSeq() > oldestExact, what + ": a cut after the horizon moved frees more: " + set.oldestExactSeq());
                assertTrue(sum(files(journalDir)) < journalBefore, what + ": and the journal directory shrinks");
                checkHistory(set, images, what + ", after a later cut", r);
            } finally {
                set.close();
            }
        }
    }

    private static void write(CapturedSet set, List<ImageModel> images, Random r) throws IOException {
        int m = r.nextInt(2);
        BlockDevice d = set.devices().get(m);
        long seq;
        ImageModel next;
        if (r.nextInt(6) == 0) {
            long len = 1 + r.nextInt(64 << 10);
            long off = (long) (r.nextDouble() * (d.sizeBytes() - len + 1));
            next = images.get(images.size() - 1).zero(m, off, len);
            seq = r.nextBoolean() ? d.trim(off, len, false) : d.writeZeroes(off, len, false);
        } else {
            byte[] data = new byte[1 + r.nextInt(100 << 10)];
            r.nextBytes(data);
            long off = (long) (r.nextDouble() * (d.sizeBytes() - data.length + 1));
            next = images.get(images.size() - 1).write(m, off, data);
            seq = d.write(off, ByteBuffer.wrap(data), false);
        }
        assertEquals(images.size(), seq, "writes take consecutive seqs");
        images.add(next);
    }

    /**
     * Every boundary and every exact write from {@code oldestExactSeq()} reads back as the model;
     * a few clone and restore in place (then undo); every older seq that is no boundary is refused
     * by each path, naming the nearest boundaries, with nothing changed.
     */
    private static void checkHistory(CapturedSet set, List<ImageModel> images, String what, Random r) throws IOException {
        List<Long> bounds = boundaries(set);
        long oldestExact = set.oldestExactSeq();
        long head = set.lastSeq();
        List<Long> kept = new ArrayList<>();
        for (long s = 0; s <= head; s++) {
            boolean exact = s >= oldestExact;
            if (images.get((int) s) == null) {
                long seq = s;
                RewindException e = assertThrows(RewindException.class, () -> set.readAt(seq, 0, 0, ByteBuffer.allocate(1)),
                        what + ": seq " + s + " lies inside a restore");
                assertTrue(e.getMessage().contains("restore in place") || e.getMessage().contains("every-write history"),
                        what + ": " + e.getMessage());
            } else if (exact || bounds.contains(s)) {
                kept.add(s);
                readWhole(set, images.get((int) s), s, what);
            } else {
                long seq = s;
                RewindException e = assertThrows(RewindException.class, () -> set.readAt(seq, 0, 0, ByteBuffer.allocate(1)),
                        what + ": seq " + s + " is older than the every-write history");
                long below = bounds.stream().filter(b -> b < seq).max(Long::compare).orElseThrow();
                long above = bounds.stream().filter(b -> b > seq).min(Long::compare).orElseThrow();
                assertTrue(e.getMessage().contains("seq " + below) && e.getMessage().contains("seq " + above),
                        what + ": the refusal of seq " + s + " names the nearest boundaries " + below + " and " + above + ": " + e.getMessage());
            }
        }
        long refused = LongStream.rangeClosed(0, head).filter(s -> s < oldestExact && !bounds.contains(s)).findFirst().orElse(-1);
        if (refused >= 0) {
            ImageModel now = images.get(images.size() - 1);
            assertThrows(RewindException.class, () -> set.restoreInPlace(refused, ProgressListener.NONE), what + ": restore to " + refused);
            assertThrows(RewindException.class, () -> set.cloneTo(refused, set.record().secondaryDir().resolveSibling("refused-clone"),
                    ProgressListener.NONE), what + ": clone at " + refused);
            assertFalse(Files.exists(set.record().secondaryDir().resolveSibling("refused-clone")), what + ": a refused clone writes nothing");
            assertEquals(head, set.lastSeq(), what + ": a refused restore journals nothing");
            now.assertPrimaryEquals(set, what + ": a refused restore leaves the primary as it was");
        }
        for (int i = 0; i < 2; i++) {
            long target = kept.get(r.nextInt(kept.size()));
            Path dir = set.record().secondaryDir().resolveSibling("clone-" + target + "-" + r.nextInt(1 << 20));
            set.cloneTo(target, dir, ProgressListener.NONE);
            images.get((int) target).assertCloneEquals(set, dir, what + ": clone at seq " + target);
            CaptureModelTest.deleteTree(dir);
        }
        // a restore in place to a kept seq, then its undo; the model follows the restore's writes
        long target = set.history().placeableAtOrBefore(r.nextBoolean() ? bounds.get(r.nextInt(bounds.size()))
                : oldestExact + (long) (r.nextDouble() * (head - oldestExact)));
        ImageModel before = images.get(images.size() - 1);
        RestoreResult res = set.restoreInPlace(target, ProgressListener.NONE);
        images.get((int) target).assertPrimaryEquals(set, what + ": restore in place to seq " + target);
        follow(set, images, res, images.get((int) target));
        if (res.changedAnything()) {
            RestoreResult undo = set.restoreInPlace(res.firstSeq() - 1, ProgressListener.NONE);
            before.assertPrimaryEquals(set, what + ": undo of the restore to seq " + target);
            follow(set, images, undo, before);
        }
    }

    /**
     * The model after a restore: each of its records puts the target's bytes (or zeros) in its
     * range, and after the last the image is the target's.
     */
    private static void follow(CapturedSet set, List<ImageModel> images, RestoreResult res, ImageModel target) {
        byte[][] targetBytes = new byte[target.memberCount()][];
        for (long s = res.firstSeq(); s <= res.lastSeq(); s++) {
            JournalRecord rec = set.journalRecord(s);
            int m = rec.memberIndex();
            ImageModel last = images.get(images.size() - 1);
            if (rec.type() == RecordType.WRITE) {
                if (targetBytes[m] == null) {
                    targetBytes[m] = target.bytes(m);
                }
                images.add(last.write(m, rec.offsetBytes(), Arrays.copyOfRange(targetBytes[m], (int) rec.offsetBytes(), (int) rec.endBytes())));
            } else {
                images.add(last.zero(m, rec.offsetBytes(), rec.lengthBytes()));
            }
        }
        for (int m = 0; m < target.memberCount(); m++) {
            ImageModel.assertSameBytes("the restore's records rebuild member " + m, target.bytes(m), images.get(images.size() - 1).bytes(m));
        }
        for (long s = res.firstSeq(); s < res.lastSeq(); s++) {
            images.set((int) s, null); // inside the restore: a state no one wrote, never offered
        }
    }

    static void readWhole(CapturedSet set, ImageModel image, long seq, String what) throws IOException {
        for (int m = 0; m < image.memberCount(); m++) {
            ByteBuffer buf = ByteBuffer.allocate((int) image.size(m));
            set.readAt(seq, m, 0, buf);
            ImageModel.assertSameBytes(what + ": member " + m + " read at seq " + seq, image.bytes(m), buf.array());
        }
    }

    static List<Long> boundaries(CapturedSet set) {
        List<Long> b = new ArrayList<>();
        List<Transaction> all = set.transactions();
        b.add(all.isEmpty() ? 0 : all.get(0).firstSeq() - 1);
        for (Transaction tx : all) {
            b.add(tx.lastSeq());
        }
        return b;
    }

    private static Map<Path, Long> files(Path dir) throws IOException {
        Map<Path, Long> sizes = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                sizes.put(p.getFileName(), Files.size(p));
            }
        }
        return sizes;
    }

    private static long sum(Map<Path, Long> sizes) {
        return sizes.values().stream().mapToLong(Long::longValue).sum();
    }

}
