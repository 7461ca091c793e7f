package dev.rewind.capture;

import dev.rewind.increments.restore.RestoreResult;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
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
 * Model-based test of the capture path and every restore path (Invariant 3, exactness):
 * a seeded random workload of writes, trims, write-zeroes, flushes, reopens and in-place
 * restores runs against a real set and against {@link ImageModel}, which keeps the image
 * at every seq it knows. The primary, clones at random seqs and in-place restores to
 * random seqs must all equal the model, byte for byte.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=200}.
 */
class CaptureModelTest {
    private static final long KIB = 1024;
    private static final long EXTENT = 64 * KIB;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0xCA9_0001L, 24);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void primaryClonesAndRestoresMatchModelUnderRandomWorkload(long seed) throws IOException {
        new Run(seed, tmp).run();
    }

    /** One seed's workload: the real set, the model, and the checks. */
    private static final class Run {
        final long seed;
        final Path tmp;
        final Random r;
        final TreeMap<Long, ImageModel> known = new TreeMap<>();
        TestSet t;
        CapturedSet set;
        CaptureOptions options;
        ImageModel current;
        long head;
        int cloneCount;
        int restores;
        int undos;
        int reopens;
        int clonesChecked;

        Run(long seed, Path tmp) {
            this.seed = seed;
            this.tmp = tmp;
            this.r = new Random(seed);
        }

        String at(String what) {
            return Seeds.describe(seed) + ", head seq " + head + ": " + what;
        }

        void run() throws IOException {
            int memberCount = 2 + r.nextInt(3);
            long[] requested = new long[memberCount];
            for (int m = 0; m < memberCount; m++) {
                requested[m] = 64 * KIB + r.nextInt((int) (2048 * KIB - 64 * KIB + 1));
            }
            long segmentBytes = r.nextBoolean() ? 1L << 20 : CaptureOptions.DEFAULT.journalSegmentBytes();
            // frequent checkpoints run alongside the workload; rare ones leave regions dirty
            Duration checkpoint = r.nextBoolean() ? Duration.ofMillis(10) : Duration.ofSeconds(30);
            options = new CaptureOptions(segmentBytes, Clock.systemUTC(), checkpoint);
            t = TestSet.create(tmp, "s", requested);
            try {
                set = t.open(options);
                long[] sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
                current = ImageModel.zeros(sizes);
                known.put(0L, current);
                current.assertPrimaryEquals(set, at("fresh set"));
                workload(150 + r.nextInt(251));
                finalChecks();
            } finally {
                if (set != null) {
                    set.close();
                }
                t.close();
            }
        }

        void workload(int ops) throws IOException {
            for (int i = 0; i < ops; i++) {
                int k = r.nextInt(100);
                if (k < 45) {
                    write();
                } else if (k < 53) {
                    zeroRange(true);
                } else if (k < 60) {
                    zeroRange(false);
                } else if (k < 70) {
                    flush();
                } else if (k < 73) {
                    reopen();
                } else if (k < 83) {
                    restoreToRandomKnownSeq();
                } else if (k < 90) {
                    cloneRandomKnownSeq();
                } else if (k < 93) {
                    current.assertPrimaryEquals(set, at("primary during workload"));
                } else {
                    write();
                }
            }
        }

        int member() {
            return r.nextInt(current.memberCount());
        }

        int writeLength(long memberSize) {
            int len = switch (r.nextInt(4)) {
                case 0 -> 1 + r.nextInt(512);
                case 1 -> 1 + r.nextInt(16 << 10);
                case 2 -> 4096 * (1 + r.nextInt(50));
                default -> 1 + r.nextInt(200 << 10);
            };
            return (int) Math.min(len, memberSize);
        }

        /** An offset for {@code len} bytes: unaligned, 4 KiB-aligned, or straddling a 64 KiB extent boundary. */
        long offset(long memberSize, long len) {
            long room = memberSize - len;
            long off;
            switch (r.nextInt(4)) {
                case 0 -> off = (long) (r.nextDouble() * (room + 1)) / 4096 * 4096;
                case 1 -> {
                    long boundaries = memberSize / EXTENT;
                    long b = boundaries <= 1 ? EXTENT : EXTENT * (1 + r.nextInt((int) boundaries - 1));
                    off = b - 1 - (len <= 1 ? 0 : r.nextInt((int) Math.min(len - 1, Integer.MAX_VALUE)));
                }
                default -> off = (long) (r.nextDouble() * (room + 1));
            }
            return Math.max(0, Math.min(room, off));
        }

        void write() throws IOException {
            int m = member();
            BlockDevice d = set.devices().get(m);
            int len = r.nextInt(100) == 0 ? 0 : writeLength(d.sizeBytes());
            long off = offset(d.sizeBytes(), len);
            byte[] data = new byte[len];
            if (r.nextInt(10) != 0) {
                r.nextBytes(data);
            }
            boolean fua = r.nextInt(8) == 0;
            long seq = d.write(off, ByteBuffer.wrap(data), fua);
            advance(seq, current.write(m, off, data), "write " + d.name() + " " + off + "+" + len);
            if (fua) {
                assertEquals(seq, set.flushedSeq(), at("a FUA write is durable at once"));
            }
        }

        void zeroRange(boolean trim) throws IOException {
            int m = member();
            BlockDevice d = set.devices().get(m);
            long len = r.nextInt(4) == 0 ? 1 + (long) (r.nextDouble() * d.sizeBytes()) : writeLength(d.sizeBytes());
            long off = offset(d.sizeBytes(), len);
            boolean fua = r.nextInt(8) == 0;
            long seq = trim ? d.trim(off, len, fua) : d.writeZeroes(off, len, fua);
            advance(seq, current.zero(m, off, len), (trim ? "trim " : "write-zeroes ") + d.name() + " " + off + "+" + len);
        }

        void advance(long seq, ImageModel next, String op) {
            assertEquals(head + 1, seq, at(op + " takes the next seq"));
            head = seq;
            current = next;
            known.put(seq, next);
            assertEquals(head, set.lastSeq(), at("lastSeq after " + op));
        }

        void flush() throws IOException {
            if (r.nextBoolean()) {
                set.flush();
            } else {
                set.devices().get(member()).flush();
            }
            assertEquals(head, set.flushedSeq(), at("flush makes every seq durable"));
        }

        void reopen() throws IOException {
            set.close();
            set = null;
            set = t.open(options);
            reopens++;
            assertEquals(head, set.lastSeq(), at("lastSeq survives a clean reopen"));
            assertEquals(head, set.flushedSeq(), at("a clean close makes every seq durable"));
            assertTrue(set.recovery().wasClean(), at("a clean close needs no recovery: " + set.recovery()));
            if (r.nextBoolean()) {
                current.assertPrimaryEquals(set, at("primary after reopen"));
            }
        }

        long randomKnownSeq() {
            List<Long> seqs = new ArrayList<>(known.keySet());
            if (r.nextInt(3) == 0) {
                // favour the recent past, where restores usually go
                return seqs.get(Math.max(0, seqs.size() - 1 - r.nextInt(Math.min(seqs.size(), 10))));
            }
            return seqs.get(r.nextInt(seqs.size()));
        }

        void cloneRandomKnownSeq() throws IOException {
            cloneAndCheck(randomKnownSeq());
        }

        void cloneAndCheck(long target) throws IOException {
            Path dir = tmp.resolve("clone-" + cloneCount++);
            List<Path> files = set.cloneTo(target, dir, ProgressListener.NONE);
            assertEquals(current.memberCount(), files.size(), at("clone writes one file per member"));
            known.get(target).assertCloneEquals(set, dir, at("clone at seq " + target));
            clonesChecked++;
            deleteTree(dir);
        }

        RestoreResult restoreAndCheck(long target) throws IOException {
            long before = head;
            RestoreResult res = set.restoreInPlace(target, ProgressListener.NONE);
            restores++;
            String what = "restore in place to seq " + target + " -> " + res;
            assertEquals(target, res.targetSeq(), at(what));
            assertEquals(before + 1, res.firstSeq(), at(what + ": a restore's writes follow the head"));
            if (res.changedAnything()) {
                head = res.lastSeq();
                current = known.get(target);
                known.put(head, current);
            } else {
                assertEquals(before, res.lastSeq(), at(what));
            }
            assertEquals(head, set.lastSeq(), at(what + ": lastSeq"));
            if (res.changedAnything()) {
                assertEquals(head, set.flushedSeq(), at(what + ": a restore's writes are durable when it returns"));
            }
            known.get(target).assertPrimaryEquals(set, at(what));
            return res;
        }

        void restoreToRandomKnownSeq() throws IOException {
            ImageModel before = current;
            RestoreResult res = restoreAndCheck(randomKnownSeq());
            if (res.changedAnything() && r.nextInt(3) == 0) {
                // undo: the seq before the restore's first write is the image the restore replaced
                long undoTarget = res.firstSeq() - 1;
                assertTrue(known.get(undoTarget) == before, at("model knows the image before the restore"));
                restoreAndCheck(undoTarget);
                before.assertPrimaryEquals(set, at("undo of " + res + " brings back the image before it"));
                undos++;
            }
        }

        void finalChecks() throws IOException {
            current.assertPrimaryEquals(set, at("primary at the end"));
            assertEquals(head, set.verify(), at("verify reads every record"));
            for (int i = 0; i < 3; i++) {
                cloneAndCheck(randomKnownSeq());
            }
            cloneAndCheck(0);
            cloneAndCheck(head);
            ImageModel before = current;
            RestoreResult res = restoreAndCheck(randomKnownSeq());
            if (res.changedAnything()) {
                restoreAndCheck(res.firstSeq() - 1);
                before.assertPrimaryEquals(set, at("undo of the final restore"));
                undos++;
            }
            reopen();
            current.assertPrimaryEquals(set, at("primary after the final reopen"));
            // a clone of a seq inside the history of restores still matches
            Map.Entry<Long, ImageModel> some = known.floorEntry(head / 2);
            cloneAndCheck(some.getKey());
            assertTrue(restores > 0 || head > 0, at("the workload did something"));
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
