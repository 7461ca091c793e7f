package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.CutRules;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Points that a DBA is handed last as long as the history that names them: a bookmark is a
 * transaction boundary (or, for a seq inside a committed transaction, an exact write the
 * every-write horizon keeps while the bookmark exists), and the point that undoes a restore in
 * place is a boundary; both outlive the horizon. With a clock the test moves, 1 MiB journal
 * segments, a cut rule of a few writes (which would cut inside a restore if cuts were not held)
 * and a horizon of five minutes, a workload of writes, bookmarks, restores and their undos runs
 * for an hour of simulated time with reopens; every bookmark and every undo point then reads,
 * clones and restores as the model has it, though the horizon has passed them all.
 */
class PointsThatLastTest {
    private static final Duration HORIZON = Duration.ofMinutes(5);

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x2201_0001L, 6);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void bookmarksAndUndoPointsOutliveTheEveryWriteHorizon(long seed) throws IOException {
        Random r = new Random(seed);
        String what = Seeds.describe(seed);
        MovingClock clock = MovingClock.at(Instant.parse("2030-01-01T00:00:00Z"));
        CaptureOptions options = new CaptureOptions(1L << 20, clock, Duration.ZERO).withCodec(IncrementCodec.NONE)
                .withCutRules(CutRules.NONE.withWrites(3 + r.nextInt(5))).withKeepEveryWrite(HORIZON).withSpanFanout(2 + r.nextInt(3));
        List<ImageModel> images = new ArrayList<>();
        List<Long> bookmarks = new ArrayList<>();
        List<Long> undoPoints = new ArrayList<>();
        try (TestSet t = TestSet.create(tmp, "s", 1 << 20, 512 << 10)) {
            CapturedSet set = open(t, options, bookmarks);
            try {
                images.add(ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray()));
                for (int minute = 0; minute < 60; minute++) {
                    clock.advance(Duration.ofMinutes(1));
                    for (int i = 0, n = 1 + r.nextInt(6); i < n; i++) {
                        write(set, images, r);
                    }
                    int k = r.nextInt(10);
                    if (k < 3) {
                        bookmarks.add(bookmark(set, images, r, minute >= 50, what));
                    } else if (k < 5 && images.size() > 2) {
                        long target = bookmarks.isEmpty() || r.nextBoolean() ? set.history().placeableAtOrBefore(r.nextInt(images.size()))
                                : bookmarks.get(r.nextInt(bookmarks.size()));
                        undoPoints.add(restore(set, images, target, what));
                    } else if (k == 5) {
                        set.close();
                        set = open(t, options, bookmarks);
                    }
                    set.cut(CutReason.DEMAND);
                }
                assertTrue(!bookmarks.isEmpty() && !undoPoints.isEmpty(), what + ": the workload bookmarked and restored");
                long oldestExact = set.oldestExactSeq();
                assertTrue(bookmarks.stream().anyMatch(b -> b < oldestExact) && undoPoints.stream().anyMatch(u -> u < oldestExact),
                        what + ": the horizon (oldest exact seq " + oldestExact + ") has passed bookmarks " + bookmarks
                                + " and undo points " + undoPoints);
                checkPoints(set, images, bookmarks, undoPoints, r, what);
                set.close();
                set = open(t, options, bookmarks);
                checkPoints(set, images, bookmarks, undoPoints, r, what + ", after a reopen");
            } finally {
                set.close();
            }
        }
    }

    private static CapturedSet open(TestSet t, CaptureOptions options, List<Long> bookmarks) throws IOException {
        CapturedSet set = t.open(options);
        set.historyPins(() -> bookmarks.stream().mapToLong(Long::longValue).toArray());
        return set;
    }

    /**
     * A bookmark of the newest write or of a seq in the open transaction becomes a boundary and is
     * durable; one of a seq inside a committed transaction stays an exact write. Seqs are asked
     * for only when {@code mayBeExact} (late in the run): one that meets a cut of the rules first
     * stays exact too, and an exact bookmark holds the journal back.
     */
    private static long bookmark(CapturedSet set, List<ImageModel> images, Random r, boolean mayBeExact, String what) throws IOException {
        long committed = lastBoundary(set);
        long head = images.size() - 1;
        OptionalLong asked = !mayBeExact ? OptionalLong.empty() : switch (r.nextInt(3)) {
            case 0 -> OptionalLong.empty();
            case 1 -> OptionalLong.of(committed + (long) (r.nextDouble() * (head - committed + 1)));
            default -> OptionalLong.of(set.history().placeableAtOrBefore(set.oldestExactSeq()
                    + (long) (r.nextDouble() * (head - set.oldestExactSeq() + 1))));
        };
        long at = set.bookmarkPoint(asked);
        assertEquals(asked.orElse(head), at, what + ": the bookmark names the seq asked for");
        assertTrue(set.flushedSeq() >= at, what + ": the bookmark's seq " + at + " is durable (flushed " + set.flushedSeq() + ")");
        if (asked.isEmpty()) {
            // (a seq asked for in the open transaction may meet a cut of the rules first, and then stays an exact write)
            assertTrue(boundaries(set).contains(at), what + ": a bookmark of the newest write is a boundary: " + at);
        }
        assertEquals(head, set.lastSeq(), what + ": a bookmark writes nothing");
        return at;
    }

    /** Restores in place to {@code target}; returns the seq that undoes it, which must be a boundary. */
    private static long restore(CapturedSet set, List<ImageModel> images, long target, String what) throws IOException {
        RestoreResult res = set.restoreInPlace(target, ProgressListener.NONE);
        images.get((int) target).assertPrimaryEquals(set, what + ": restore to seq " + target);
        for (long s = res.firstSeq(); s <= res.lastSeq(); s++) {
            images.add(s == res.lastSeq() ? images.get((int) target) : null); // inside the restore: no image anyone wrote
        }
        long undo = res.firstSeq() - 1;
        List<Long> bounds = boundaries(set);
        assertTrue(bounds.contains(undo), what + ": the undo point " + undo + " of " + res + " is a boundary: " + bounds);
        if (res.changedAnything()) {
            assertTrue(bounds.contains(res.lastSeq()), what + ": the restore's last write " + res.lastSeq() + " is a boundary: " + bounds);
        }
        return undo;
    }

    private static void checkPoints(CapturedSet set, List<ImageModel> images, List<Long> bookmarks, List<Long> undoPoints, Random r,
                                    String what) throws IOException {
        List<Long> points = new ArrayList<>(bookmarks);
        points.addAll(undoPoints);
        for (long p : points) {
            readWhole(set, images.get((int) p), p, what + ": seq " + p);
        }
        for (int i = 0; i < 2; i++) {
            long p = points.get(r.nextInt(points.size()));
            Path dir = set.record().secondaryDir().resolveSibling("clone-" + p + "-" + r.nextInt(1 << 20));
            set.cloneTo(p, dir, ProgressListener.NONE);
            images.get((int) p).assertCloneEquals(set, dir, what + ": clone at seq " + p);
            CaptureModelTest.deleteTree(dir);
        }
        long target = points.get(r.nextInt(points.size()));
        ImageModel before = images.get(images.size() - 1);
        long undo = restore(set, images, target, what);
        restore(set, images, undo, what + ", undoing the restore to " + target);
        before.assertPrimaryEquals(set, what + ": undo of the restore to seq " + target);
        for (long s = set.oldestSeq(); s <= set.lastSeq(); s++) {
            if (images.get((int) s) == null) {
                long inside = s;
                RewindException e = assertThrows(RewindException.class, () -> set.checkRestorable(inside), what + ": seq " + s);
                assertTrue(e.getMessage().contains("restore in place") || e.getMessage().contains("every-write history"),
                        what + ": " + e.getMessage());
            }
        }
    }

    private static void write(CapturedSet set, List<ImageModel> images, Random r) throws IOException {
        int m = r.nextInt(2);
        BlockDevice d = set.devices().get(m);
        byte[] data = new byte[1 + r.nextInt(100 << 10)];
        r.nextBytes(data);
        long off = (long) (r.nextDouble() * (d.sizeBytes() - data.length + 1));
        ImageModel next = images.get(images.size() - 1).write(m, off, data);
        assertEquals(images.size(), d.write(off, ByteBuffer.wrap(data), false), "writes take consecutive seqs");
        images.add(next);
    }

    private static void readWhole(CapturedSet set, ImageModel image, long seq, String what) throws IOException {
        assertTrue(image != null, what + " is no point inside a restore");
        HorizonTest.readWhole(set, image, seq, what);
    }

    private static long lastBoundary(CapturedSet set) {
        List<Transaction> all = set.transactions();
        return all.isEmpty() ? 0 : all.get(all.size() - 1).lastSeq();
    }

    private static List<Long> boundaries(CapturedSet set) {
        return HorizonTest.boundaries(set);
    }
}
