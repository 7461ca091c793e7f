package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.deltamap.DeltaMap;
import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.clock.MovingClock;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Retention against a model (issue 23): two simulated days on a clock the test moves, a cut
 * every few minutes, bookmarks (some consistent) and a sandbox-like reader pinning points, a
 * restore in place and its undo, a retention pass every simulated hour under a random policy,
 * and reopens (also between planning a pass and carrying it out). After every pass:
 * <ul>
 *   <li>the points on hand are exactly those the policy keeps, computed here by brute force
 *       over the points that were on hand before the pass;</li>
 *   <li>every kept point reads back as the model, through the past view and a clone; every
 *       dropped point is refused;</li>
 *   <li>the increments take no more space than before, and less when anything went;</li>
 *   <li>{@code changedBetween} two kept points covers every byte the model says differs;</li>
 *   <li>{@code verify} passes (increments, merged ones included, and delta maps).</li>
 * </ul>
 */
class RetentionModelTest {
    private static final Instant START = Instant.parse("2030-03-01T00:00:00Z");

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x2302_0001L, 3);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void keptPointsAreExactlyThePolicysAndEachReadsAsTheModel(long seed) throws IOException {
        new Run(seed).run();
    }

    private final class Run {
        final Random r;
        final String what;
        final MovingClock clock = MovingClock.at(START);
        final RetentionPolicy policy;
        final CaptureOptions options;
        final List<ImageModel> images = new ArrayList<>();
        final List<RetentionPlan.Pin> pins = new ArrayList<>();
        /** When each boundary was reached, noted as it was cut: the model's own record, not what the log says after merges. */
        final Map<Long, Instant> boundaryTimes = new HashMap<>();
        TestSet t;
        CapturedSet set;
        int passes;
        int merged;
        int dropped;

        Run(long seed) {
            r = new Random(seed);
            what = Seeds.describe(seed);
            String[] policies = {
                "every-write:30m,transactions:2h,hourly:12h,daily:forever",
                "every-write:20m,transactions:1h,hourly:6h,bookmarks:1d",
                "every-write:40m,hourly:1d,consistent:forever",
                "every-write:30m,transactions:3h,daily:2d,bookmarks:12h,consistent:forever",
            };
            policy = RetentionPolicy.parse(policies[r.nextInt(policies.length)]);
            options = new CaptureOptions(1L << 20, clock, Duration.ZERO).withCodec(r.nextBoolean() ? IncrementCodec.NONE : IncrementCodec.ZSTD)
                    .withKeepEveryWrite(policy.everyWrite()).withSpanFanout(2 + r.nextInt(3));
        }

        String at(String s) {
            return what + " (" + policy.text() + ", pass " + passes + ", seq " + (images.size() - 1) + "): " + s;
        }

        void run() throws IOException {
            try (TestSet testSet = TestSet.create(tmp, "s", 1 << 20, 512 << 10)) {
                t = testSet;
                open();
                try {
                    images.add(ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray()));
                    boolean restored = false;
                    long lastPassHour = 0;
                    while (clock.instant().isBefore(START.plus(Duration.ofDays(2)))) {
                        clock.advance(Duration.ofMinutes(5 + r.nextInt(10)));
                        for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
                            write();
                        }
                        int k = r.nextInt(40);
                        if (k < 3) {
                            long seq = set.bookmarkPoint(java.util.OptionalLong.empty());
                            boolean consistent = r.nextBoolean();
                            pins.add(new RetentionPlan.Pin(seq, consistent ? RetentionPlan.PinKind.CONSISTENT_BOOKMARK
                                    : RetentionPlan.PinKind.BOOKMARK, clock.instant(), "b" + seq));
                        } else if (k == 3 && pins.stream().noneMatch(p -> p.kind() == RetentionPlan.PinKind.READER)) {
                            long seq = set.history().placeableAtOrBefore(set.oldestSeq() + (long) (r.nextDouble() * (images.size() - set.oldestSeq())));
                            if (images.get((int) seq) != null) {
                                pins.add(new RetentionPlan.Pin(seq, RetentionPlan.PinKind.READER, clock.instant(), "sandbox at " + seq));
                            }
                        } else if (k == 4) {
                            pins.removeIf(p -> p.kind() == RetentionPlan.PinKind.READER); // the sandbox is dropped
                        } else if (k == 5 && !restored && images.size() > 20) {
                            restoreAndUndo();
                            restored = true;
                        }
                        set.cut(CutReason.DEMAND);
                        noteBoundaries();
                        long hour = Duration.between(START, clock.instant()).toHours();
                        if (hour != lastPassHour) {
                            lastPassHour = hour;
                            pass();
                        }
                    }
                    assertTrue(merged > 0 && dropped > 0 || policy.rules().containsKey(RetentionPolicy.Rule.DAILY)
                                    && policy.rules().get(RetentionPolicy.Rule.DAILY).equals(RetentionPolicy.FOREVER) && merged > 0,
                            at("the passes merged (" + merged + ") and dropped (" + dropped + ") transactions"));
                    set.close();
                    open();
                    checkKept(new TreeSet<>(HorizonTest.boundaries(set)), "after the last reopen");
                } finally {
                    set.close();
                }
            }
        }

        void noteBoundaries() {
            List<Transaction> all = set.transactions();
            if (!all.isEmpty() && all.get(0).firstSeq() == 1) {
                boundaryTimes.putIfAbsent(0L, all.get(0).start());
            }
            for (Transaction tx : all) {
                boundaryTimes.putIfAbsent(tx.lastSeq(), tx.end());
            }
        }

        void open() throws IOException {
            set = t.open(options);
            set.retentionPolicy(policy);
            set.retentionPins(() -> List.copyOf(pins));
            set.historyPins(() -> pins.stream().mapToLong(RetentionPlan.Pin::seq).toArray());
        }

        void write() throws IOException {
            int m = r.nextInt(2);
            BlockDevice d = set.devices().get(m);
            byte[] data = new byte[1 + r.nextInt(48 << 10)];
            r.nextBytes(data);
            long off = (long) (r.nextDouble() * (d.sizeBytes() - data.length + 1));
            ImageModel next = images.get(images.size() - 1).write(m, off, data);
            assertEquals(images.size(), d.write(off, ByteBuffer.wrap(data), false), "writes take consecutive seqs");
            images.add(next);
        }

        void restoreAndUndo() throws IOException {
            List<Long> bounds = HorizonTest.boundaries(set);
            long target = bounds.get(r.nextInt(bounds.size()));
            ImageModel before = images.get(images.size() - 1);
            RestoreResult res = set.restoreInPlace(target, ProgressListener.NONE);
            for (long s = res.firstSeq(); s <= res.lastSeq(); s++) {
                images.add(s == res.lastSeq() ? images.get((int) target) : null);
            }
            RestoreResult undo = set.restoreInPlace(res.firstSeq() - 1, ProgressListener.NONE);
            for (long s = undo.firstSeq(); s <= undo.lastSeq(); s++) {
                images.add(s == undo.lastSeq() ? before : null);
            }
            before.assertPrimaryEquals(set, at("the undo of a restore to " + target));
        }

        void pass() throws IOException {
            passes++;
            TreeSet<Long> before = new TreeSet<>(HorizonTest.boundaries(set));
            if (r.nextInt(6) == 0) {
                set.close(); // a reopen before the pass (which applies the every-write horizon on the way)
                open();
            }
            TreeSet<Long> expected = expectedKept(before);
            RetentionPlan plan = set.planRetention();
            assertEquals(expected, new TreeSet<>(plan.kept().keySet()), at("the plan keeps what the policy says"));
            long incrementsBefore = incrementBytes();
            Retention.Result result = set.retain(plan);
            merged += result.merged();
            dropped += result.dropped();
            TreeSet<Long> after = new TreeSet<>(HorizonTest.boundaries(set));
            assertEquals(expected, after, at("the points on hand after the pass"));
            long incrementsAfter = incrementBytes();
            assertTrue(incrementsAfter <= incrementsBefore, at("increments " + incrementsBefore + " -> " + incrementsAfter + " bytes"));
            if (result.dropped() > 0) {
                assertTrue(incrementsAfter < incrementsBefore, at("dropping transactions frees space"));
            }
            for (long gone : before) {
                if (!after.contains(gone) && gone < set.oldestExactSeq()) {
                    assertThrows(RewindException.class, () -> set.checkRestorable(gone), at("dropped point " + gone + " is refused"));
                }
            }
            if (r.nextInt(4) == 0) {
                set.close();
                open();
            }
            checkKept(after, "after pass " + passes);
        }

        /** By brute force over the points on hand: which of them the policy keeps now. */
        TreeSet<Long> expectedKept(TreeSet<Long> present) {
            Instant now = clock.instant();
            noteBoundaries();
            Map<Long, Instant> time = boundaryTimes;
            TreeSet<Long> kept = new TreeSet<>();
            kept.add(present.last());
            long exactFloor = set.oldestExactSeq();
            Instant horizon = now.minus(policy.everyWrite());
            exactFloor = Math.max(exactFloor, present.stream().filter(b -> !time.get(b).isBefore(horizon)).findFirst().orElse(present.last()));
            for (long b : present) {
                Instant tb = time.get(b);
                boolean placeable = images.get((int) b) != null;
                if (b >= exactFloor) {
                    kept.add(b);
                }
                for (Map.Entry<RetentionPolicy.Rule, Duration> rule : policy.rules().entrySet()) {
                    boolean young = rule.getValue().equals(RetentionPolicy.FOREVER) || !tb.isBefore(now.minus(rule.getValue()));
                    switch (rule.getKey()) {
                        case TRANSACTIONS -> {
                            if (young && placeable) {
                                kept.add(b);
                            }
                        }
                        case HOURLY, DAILY -> {
                            long unit = rule.getKey() == RetentionPolicy.Rule.HOURLY ? 3600 : 86400;
                            boolean newestOfItsBucket = present.tailSet(b, false).stream()
                                    .noneMatch(o -> images.get(o.intValue()) != null
                                            && time.get(o).getEpochSecond() / unit == tb.getEpochSecond() / unit);
                            if (young && placeable && newestOfItsBucket) {
                                kept.add(b);
                            }
                        }
                        case BOOKMARKS, CONSISTENT -> {
                            for (RetentionPlan.Pin p : pins) {
                                boolean counts = p.kind() == RetentionPlan.PinKind.CONSISTENT_BOOKMARK
                                        || p.kind() == RetentionPlan.PinKind.BOOKMARK && rule.getKey() == RetentionPolicy.Rule.BOOKMARKS;
                                boolean bookmarkYoung = rule.getValue().equals(RetentionPolicy.FOREVER)
                                        || !p.made().isBefore(now.minus(rule.getValue()));
                                if (counts && bookmarkYoung && present.floor(p.seq()) == b) {
                                    kept.add(b);
                                }
                            }
                        }
                        default -> throw new AssertionError(rule);
                    }
                }
                for (RetentionPlan.Pin p : pins) {
                    if (p.kind() == RetentionPlan.PinKind.READER && present.floor(p.seq()) == b) {
                        kept.add(b);
                    }
                }
            }
            if (kept.size() == 1 && present.size() > 1) {
                kept.add(present.lower(present.last())); // the newest transaction stays, with its start
            }
            return kept;
        }

        void checkKept(TreeSet<Long> points, String when) throws IOException {
            boolean all = when.startsWith("after the last");
            for (long p : points) {
                if (!all && r.nextInt(points.size()) >= 6) {
                    continue; // about six points after each pass, every point at the end
                }
                ImageModel image = images.get((int) p);
                assertTrue(image != null, at(when + ": kept point " + p + " lies inside no restore"));
                HorizonTest.readWhole(set, image, p, at(when + ": seq " + p));
            }
            List<Long> list = new ArrayList<>(points);
            long a = list.get(r.nextInt(list.size()));
            if (all || passes % 6 == 0) {
                Path dir = set.record().secondaryDir().resolveSibling("clone-" + passes + "-" + r.nextInt(1 << 20));
                set.cloneTo(a, dir, ProgressListener.NONE);
                images.get((int) a).assertCloneEquals(set, dir, at(when + ": clone at seq " + a));
                CaptureModelTest.deleteTree(dir);
            }
            long b = list.get(r.nextInt(list.size()));
            long from = Math.min(a, b);
            long to = Math.max(a, b);
            DeltaMap changed = set.history().changedBetween(from, to);
            for (int m = 0; m < images.get(0).memberCount(); m++) {
                byte[] x = images.get((int) from).bytes(m);
                byte[] y = images.get((int) to).bytes(m);
                for (int i = 0; i < x.length; i++) {
                    if (x[i] != y[i]) {
                        assertTrue(changed.changed(m).intersects(i, i + 1),
                                at(when + ": byte " + i + " of member " + m + " differs between " + from + " and " + to
                                        + " but changedBetween leaves it out"));
                    }
                }
            }
            if (all || passes % 12 == 0) {
                assertFalse(set.verify() < 0, at(when + ": verify"));
            }
        }

        long incrementBytes() throws IOException {
            Path dir = set.record().secondaryDir().resolve("increments");
            try (Stream<Path> s = Files.list(dir)) {
                long total = 0;
                for (Path p : s.toList()) {
                    total += Files.size(p);
                }
                return total;
            }
        }
    }
}
