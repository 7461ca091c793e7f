package dev.rewind.capture;

import dev.rewind.increments.restore.InterruptedRestore;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.increments.restore.RestorePlan;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.set.TestSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test of the restore paths {@link CaptureModelTest} rarely reaches: the large
 * restore (above the staging threshold: a verify pass, then a write pass), made reachable by a
 * small threshold, and restores in place cut short part way. A seeded workload of writes, trims,
 * restores in place, clones, interrupted restores, reopens, resumes and superseding restores
 * runs against a real set and {@link ImageModel}; after every restore that finishes the primary
 * equals the model at its target, and while one is interrupted the set says so and refuses
 * writes.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=200}.
 */
class RestoreModelTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("dev.rewind.capture.CaptureModelTest#seeds")
    void largeAndInterruptedRestoresMatchModel(long seed) throws IOException {
        new Run(seed, tmp).run();
    }

    /**
     * The large path reads and checks everything in a verify pass before its write pass: a
     * flipped byte in the oldest record a restore needs, which the write pass (newest first)
     * would reach only after writing everything newer, is refused with nothing written.
     */
    @Test
    void corruptRecordNeededByALargeRestoreIsRefusedBeforeThePrimaryIsTouched() throws IOException {
        Random r = new Random(11);
        long target;
        try (TestSet t = TestSet.create(tmp, "s", 1 << 20, 512 << 10)) {
            try (CapturedSet set = t.open(CaptureOptions.DEFAULT.withJournalSegmentBytes(1 << 20))) {
                byte[] first = new byte[4096];
                r.nextBytes(first);
                assertEquals(1, set.devices().get(0).write(0, ByteBuffer.wrap(first), false));
                for (int i = 0; i < 40; i++) {
                    int m = i % 2;
                    long size = set.devices().get(m).sizeBytes();
                    byte[] data = new byte[20_000 + r.nextInt(80_000)];
                    r.nextBytes(data);
                    long off = 8192 + (long) (r.nextDouble() * (size - 8192 - data.length));
                    set.devices().get(m).write(off, ByteBuffer.wrap(data), false);
                }
                target = set.lastSeq();
                for (BlockDevice d : set.devices()) {
                    byte[] whole = new byte[(int) d.sizeBytes()];
                    r.nextBytes(whole);
                    d.write(0, ByteBuffer.wrap(whole), false);
                }
            }
            Path journal = tmp.resolve("secondary").resolve("journal");
            Path firstSegment;
            try (var s = java.nio.file.Files.list(journal)) {
                firstSegment = s.filter(p -> p.getFileName().toString().endsWith(".rwj")).sorted().findFirst().orElseThrow();
            }
            JournalCorruptionTest.Rec seq1 = JournalCorruptionTest.records(firstSegment).get(0);
            assertEquals(1, seq1.seq());
            JournalCorruptionTest.flipByte(firstSegment, seq1.position() + 48 + 100);

            try (CapturedSet set = t.open(CaptureOptions.DEFAULT.withJournalSegmentBytes(1 << 20))) {
                set.stagedRestoreBytes(1);
                long head = set.lastSeq();
                assertTrue(set.planRestore(target).totalBytes() > 1, "the restore takes the large path");
                byte[][] before = JournalCorruptionTest.readPrimaries(set);
                long[] written = {0};
                assertThrows(CorruptDataException.class, () -> set.restoreInPlace(target, bytes -> written[0] += bytes));
                assertEquals(0, written[0], "nothing was written before the corruption was found");
                assertEquals(head, set.lastSeq(), "a refused restore journals nothing");
                byte[][] after = JournalCorruptionTest.readPrimaries(set);
                for (int m = 0; m < before.length; m++) {
                    assertArrayEquals(before[m], after[m], "a refused restore leaves member " + m + " of the primary unchanged");
                }
                assertFalse(set.isRestoreUnfinished(), "a refused restore records no intent");
                assertFalse(java.nio.file.Files.exists(tmp.resolve("secondary").resolve("restore-intent")));
            }
        }
    }

    /** Thrown from a restore's progress listener to cut it short after some of its writes. */
    static final class Interruption extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Interruption() {
            super("simulated interruption");
        }
    }

    private static final class Run {
        final long seed;
        final Path tmp;
        final Random r;
        final TreeMap<Long, ImageModel> known = new TreeMap<>();
        TestSet t;
        CapturedSet set;
        CaptureOptions options;
        long stagedRestoreBytes;
        ImageModel current;
        long head;
        int clones;
        int largeRestores;
        int interruptions;
        int resumes;
        int supersedes;

        Run(long seed, Path tmp) {
            this.seed = seed;
            this.tmp = tmp;
            this.r = new Random(seed);
        }

        String at(String what) {
            return "seed " + seed + " (replay with -Drewind.seed=" + seed + "), staged up to " + stagedRestoreBytes + " bytes, head seq "
                    + head + ": " + what;
        }

        void run() throws IOException {
            int memberCount = 1 + r.nextInt(3);
            long[] requested = new long[memberCount];
            for (int m = 0; m < memberCount; m++) {
                requested[m] = 64 * 1024 + r.nextInt(1024 * 1024);
            }
            // 1 byte: every restore takes the verify-then-write path; otherwise a mix of both paths
            stagedRestoreBytes = r.nextBoolean() ? 1 : 1 + r.nextInt(256 << 10);
            options = new CaptureOptions(1L << 20, Clock.systemUTC(), Duration.ofSeconds(30)).withSpanFanout(2 + r.nextInt(3));
            t = TestSet.create(tmp, "s", requested);
            try {
                open();
                current = ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray());
                known.put(0L, current);
                for (int i = 0, ops = 80 + r.nextInt(80); i < ops; i++) {
                    int k = r.nextInt(100);
                    if (k < 50) {
                        write();
                    } else if (k < 60) {
                        zero();
                    } else if (k < 72) {
                        restore(randomKnownSeq());
                    } else if (k < 80) {
                        cloneAndCheck(randomKnownSeq());
                    } else if (k < 92) {
                        interruptThenFinish();
                    } else if (k < 96) {
                        reopen();
                    } else {
                        set.flush();
                    }
                }
                cloneAndCheck(randomKnownSeq());
                interruptThenFinish();
                reopen();
                current.assertPrimaryEquals(set, at("primary after the final reopen"));
                assertEquals(head, set.verify(), at("verify reads every record"));
                assertTrue(interruptions > 0 && clones > 0, at("the workload interrupted and cloned"));
                assertTrue(largeRestores > 0 || stagedRestoreBytes > 1, at("restores took the large path"));
            } finally {
                if (set != null) {
                    set.close();
                }
                t.close();
            }
        }

        void open() throws IOException {
            set = t.open(options);
            set.stagedRestoreBytes(stagedRestoreBytes);
        }

        void reopen() throws IOException {
            set.close();
            set = null;
            open();
            assertEquals(head, set.lastSeq(), at("lastSeq survives a clean reopen"));
        }

        long randomKnownSeq() {
            List<Long> seqs = new ArrayList<>(known.keySet());
            return seqs.get(r.nextInt(seqs.size()));
        }

        void write() throws IOException {
            int m = r.nextInt(current.memberCount());
            BlockDevice d = set.devices().get(m);
            int len = (int) Math.min(d.sizeBytes(), 1 + r.nextInt(r.nextBoolean() ? 4096 : 128 << 10));
            long off = (long) (r.nextDouble() * (d.sizeBytes() - len + 1));
            byte[] data = new byte[len];
            r.nextBytes(data);
            advance(d.write(off, ByteBuffer.wrap(data), false), current.write(m, off, data));
        }

        void zero() throws IOException {
            int m = r.nextInt(current.memberCount());
            BlockDevice d = set.devices().get(m);
            long len = 1 + (long) (r.nextDouble() * d.sizeBytes() / 4);
            long off = (long) (r.nextDouble() * (d.sizeBytes() - len + 1));
            long seq = r.nextBoolean() ? d.trim(off, len, false) : d.writeZeroes(off, len, false);
            advance(seq, current.zero(m, off, len));
        }

        void advance(long seq, ImageModel next) {
            assertEquals(head + 1, seq, at("a write takes the next seq"));
            head = seq;
            current = next;
            known.put(seq, next);
        }

        /** A restore in place that runs to its end: the primary equals the model at the target. */
        void restore(long target) throws IOException {
            long planned = set.planRestore(target).totalBytes();
            RestoreResult res = set.restoreInPlace(target, ProgressListener.NONE);
            finished(target, res, planned);
        }

        void finished(long target, RestoreResult res, long plannedBytes) throws IOException {
            if (plannedBytes > stagedRestoreBytes) {
                largeRestores++;
            }
            if (res.changedAnything()) {
                head = res.lastSeq();
                current = known.get(target);
                known.put(head, current);
            }
            assertEquals(head, set.lastSeq(), at("lastSeq after " + res));
            assertFalse(set.isRestoreUnfinished(), at("a finished restore leaves no intent: " + res));
            assertTrue(set.interruptedRestore().isEmpty(), at("nothing interrupted after " + res));
            known.get(target).assertPrimaryEquals(set, at("restore in place to seq " + target + " -> " + res));
        }

        /**
         * A restore cut short after some of its writes (its progress listener throws), then maybe
         * a reopen, then either {@code resume} or a restore in place to another known seq.
         */
        void interruptThenFinish() throws IOException {
            long target = randomKnownSeq();
            RestorePlan plan = set.planRestore(target);
            if (!plan.changesAnything()) {
                restore(target);
                return;
            }
            long cutAfterBytes = (long) (r.nextDouble() * plan.totalBytes());
            long[] written = {0};
            assertThrows(Interruption.class, () -> set.restoreInPlace(target, bytes -> {
                written[0] += bytes;
                if (written[0] > cutAfterBytes) {
                    throw new Interruption();
                }
            }), at("the restore to " + target + " is cut short"));
            interruptions++;
            if (r.nextBoolean()) {
                reopenAfterInterruption();
            }
            InterruptedRestore ir = set.interruptedRestore().orElseThrow(() -> new AssertionError(at("the restore is reported")));
            assertEquals(target, ir.intent().targetSeq(), at("intent names the target"));
            assertEquals(head, ir.intent().headSeqAtStart(), at("intent names the head at start"));
            assertEquals(head + 1, ir.intent().firstRestoreSeq(), at("intent names the first restore seq"));
            assertEquals(set.lastSeq() - head, ir.restoreSeqsWritten(), at("every seq after the head is the restore's"));
            assertTrue(ir.restoreSeqsWritten() >= 1 && ir.bytesWritten() > 0, at("the cut came after a write: " + ir));
            assertTrue(ir.describe("s").contains("--resume s"), at("says what to run: " + ir.describe("s")));
            RewindException refused = assertThrows(RewindException.class,
                    () -> set.devices().get(0).write(0, ByteBuffer.wrap(new byte[1]), false), at("writes are refused"));
            assertTrue(refused.getMessage().contains("interrupted restore") && refused.getMessage().contains("--resume s"),
                    at(refused.getMessage()));
            long boundaryBefore = set.transactions().isEmpty() ? 0 : set.transactions().get(set.transactions().size() - 1).lastSeq();
            assertTrue(set.cut(CutReason.DEMAND).isEmpty(), at("no cut falls inside a restore cut short"));
            assertThrows(RewindException.class, () -> set.bookmarkPoint(java.util.OptionalLong.empty()),
                    at("no bookmark on a half-restored set"));
            assertThrows(RewindException.class, () -> set.checkRestorable(set.lastSeq()), at("its head is no point to offer"));
            long beforeRestoreHead = head;
            head = set.lastSeq();
            if (r.nextInt(4) != 0) {
                long planned = set.planRestore(target).totalBytes();
                RestoreResult res = set.resumeRestore(ProgressListener.NONE);
                assertEquals(beforeRestoreHead + 1, res.firstSeq(), at("a resumed restore keeps its first seq: " + res));
                Transaction own = set.transactions().get(set.transactions().size() - 1);
                assertEquals(boundaryBefore + 1, own.firstSeq(), at("the restore, cut short and resumed, is one transaction: " + own));
                assertEquals(set.lastSeq(), own.lastSeq(), at("cut after its last write: " + own));
                assertEquals(beforeRestoreHead, boundaryBefore, at("cut just before its first write"));
                finished(target, res, planned);
                resumes++;
                // undo: the seq before the restore's first write is the image it replaced
                if (r.nextBoolean()) {
                    restore(res.firstSeq() - 1);
                }
            } else {
                long other = randomKnownSeq();
                RestorePlan superseding = set.planRestore(other);
                assertTrue(other == target ? superseding.supersedes() == null : superseding.supersedes() != null,
                        at("a plan says whether it supersedes the interrupted restore"));
                restore(other);
                supersedes++;
            }
        }

        void reopenAfterInterruption() throws IOException {
            long last = set.lastSeq();
            set.close();
            set = null;
            open();
            assertEquals(last, set.lastSeq(), at("the interrupted restore's writes survive a reopen"));
            assertTrue(set.isRestoreUnfinished(), at("the intent survives a reopen"));
        }

        void cloneAndCheck(long target) throws IOException {
            Path dir = tmp.resolve("clone-" + clones++);
            set.cloneTo(target, dir, ProgressListener.NONE);
            known.get(target).assertCloneEquals(set, dir, at("clone at seq " + target));
            CaptureModelTest.deleteTree(dir);
        }
    }
}
