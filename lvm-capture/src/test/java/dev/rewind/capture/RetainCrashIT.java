package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Retention passes survive SIGKILL (issue 23, crash-safe like cuts): a child JVM
 * ({@link RetainCrashChild}) writes {@link CrashWorkload}, cuts every few simulated minutes and
 * runs a retention pass after every cut under a policy of short rules, so that passes merge and
 * drop all the time; it is killed at a random instant, which often falls inside a pass (while
 * merged increments are written into {@code retain/}, between the commit and the moves, or
 * while the old increments are deleted). The parent reopens the set (recovery finishes or rolls
 * back the pass) and checks that
 * <ul>
 *   <li>the boundaries up to the newest one the interrupted pass planned over are either all
 *       those before the pass or exactly those its plan keeps, never a mix (those after it are
 *       cuts made since, and each one the child reported is there); a pass the child reported
 *       done is done; and every pass began from what the one before it left;</li>
 *   <li>every boundary on hand reads back, whole, as the model (through the increments and the
 *       merged delta maps in {@code maps/}), a clone at a random boundary (even rounds) or a
 *       random exact seq (odd rounds) equals the model, and {@code changedBetween} the oldest and the newest boundary
 *       covers every byte the model says differs;</li>
 *   <li>{@code verify()} passes; no {@code retain/} directory is left; {@code increments/} holds
 *       exactly {@code <id>.fwd} and {@code <id>.bwd} of the transactions in the log, each
 *       with its transaction's header; {@code maps/} names no transaction after the newest;</li>
 *   <li>every flushed write is there: the primary is the model at the recovered lastSeq, at
 *       least the last {@code FLUSHED} seq.</li>
 * </ul>
 * Before reopening, the parent looks at what the kill left: a {@code retain/} directory, or a
 * pass committed that the child had not reported. At least a quarter of the rounds must have
 * been killed inside a pass, or the test proves little.
 *
 * <p>{@code -Drewind.crash.rounds=N} rounds per seed (default 15; two seeds), {@code -Drewind.seed=S}
 * replays one seed's workload, policy and steps (the kill instants still race with the child).
 */
class RetainCrashIT {
    private static final long[] MEMBER_BYTES = {2L << 20, 1L << 20};
    private static final Instant START = Instant.parse("2031-06-01T00:00:00Z");
    private static final String[] POLICIES = {
        "every-write:10m,transactions:15m,hourly:3h",
        "every-write:5m,transactions:20m,hourly:2h",
    };

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.of(0x23C0_0001L, 0x23C0_0002L);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void sigkillDuringRetentionPassesLeavesTheHistoryBeforeOrAfterAPassAndNothingOrphaned(long seed) throws Exception {
        int rounds = Integer.getInteger("rewind.crash.rounds", 15);
        Random random = new Random(seed);
        RetentionPolicy policy = RetentionPolicy.parse(POLICIES[(int) Math.floorMod(seed, (long) POLICIES.length)]);
        int spanFanout = 2 + random.nextInt(2);
        String ctx0 = Seeds.describe(seed) + " (" + policy.text() + ", span fanout " + spanFanout + ")";
        System.out.println("RetainCrashIT: " + ctx0 + ", " + rounds + " rounds");

        String classPath = ChildJvm.snapshotClassPath(tmp.resolve("classpath"));
        Path root = tmp.resolve("set");
        long[] sizes;
        Path secondary;
        try (TestSet t = TestSet.create(root, RetainCrashChild.SET, MEMBER_BYTES);
             CapturedSet set = t.open(RetainCrashChild.options(MovingClock.at(START), policy, spanFanout, IncrementCodec.NONE))) {
            sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
            secondary = t.volumes.findSet(RetainCrashChild.SET).secondaryDir();
        }
        Path retainDir = secondary.resolve("retain");
        CrashIT.SeqModel model = new CrashIT.SeqModel(seed, sizes, 128);

        Instant clockAt = START;
        List<Long> boundaries = List.of(0L);
        long highestFlushed = 0;
        int passesBegun = 0;
        int passesDone = 0;
        int insidePass = 0;
        int rolledBack = 0;
        int committedUnreported = 0;
        int stagingLeft = 0;
        long started = System.nanoTime();
        for (int round = 1; round <= rounds; round++) {
            IncrementCodec codec = IncrementCodec.values()[random.nextInt(IncrementCodec.values().length)];
            // a pass that changes anything takes tens to hundreds of milliseconds here, a step between two passes some
            // hundreds: two kills in three aim at such a pass, the others fall anywhere in the steps that follow it
            int killAtPass = 1 + random.nextInt(2);
            int killAfterMillis = random.nextInt(3) > 0 ? random.nextInt(100) : random.nextInt(600);
            String ctx = ctx0 + ", round " + round + " (" + codec + ", killed " + killAfterMillis + " ms after the pass that changes anything "
                    + killAtPass + " began)";
            Path err = root.resolve("child-" + round + ".err");
            long flushed;
            List<String> said;
            try (ChildJvm child = ChildJvm.start(classPath, RetainCrashChild.class, err, "OPENED ", root.toString(), Long.toString(seed),
                    Long.toString(clockAt.toEpochMilli()), policy.text(), Integer.toString(spanFanout), codec.name(),
                    Long.toString(random.nextLong()))) {
                child.awaitReady(ctx);
                child.awaitLines("PASS+ ", killAtPass, ctx);
                Thread.sleep(killAfterMillis); // the kill instant: a random moment of the child's work
                child.kill(ctx);
                flushed = child.lastFlushed();
                said = child.lines();
            }
            highestFlushed = Math.max(highestFlushed, flushed);

            // what the child reported
            List<Pass> passes = new ArrayList<>();
            List<Long> cutsReported = new ArrayList<>();
            List<Long> opened = null;
            for (String line : said) {
                String[] w = line.split(" ");
                switch (w[0]) {
                    case "OPENED" -> opened = RetainCrashChild.parseCsv(w[2]);
                    case "CLOCK" -> clockAt = Instant.ofEpochMilli(Long.parseLong(w[1]));
                    case "CUT" -> cutsReported.add(Long.parseLong(w[2]));
                    case "PASS", "PASS+" -> passes.add(new Pass(Integer.parseInt(w[1]), Long.parseLong(w[2]), RetainCrashChild.parseCsv(w[3]),
                            RetainCrashChild.parseCsv(w[4])));
                    case "RETAINED" -> passes.get(passes.size() - 1).done = true;
                    default -> {
                        // log lines
                    }
                }
            }
            String c0 = ctx + ", last FLUSHED " + flushed + ", child said " + tail(said);
            assertTrue(opened != null && !passes.isEmpty(), c0 + ": the child opened the set and began a pass");
            // every pass began from what the one before it left (and the first from what the last reopen saw)
            assertEquals(boundaries, upTo(opened, boundaries.get(boundaries.size() - 1)), c0 + ": the child opened the history the parent saw");
            for (int i = 1; i < passes.size(); i++) {
                Pass p = passes.get(i - 1);
                assertEquals(p.kept, upTo(passes.get(i).before, p.newest), c0 + ": pass " + passes.get(i).number + " began from what pass "
                        + p.number + " left");
            }
            Pass last = passes.get(passes.size() - 1);
            passesBegun += passes.size();
            passesDone += (int) passes.stream().filter(p -> p.done).count();

            // what the kill left, before recovery touches it
            boolean staging = Files.isDirectory(retainDir);
            stagingLeft += staging ? 1 : 0;

            MovingClock clock = MovingClock.at(clockAt);
            try (TestSet t = TestSet.attach(root, RetainCrashChild.SET);
                 CapturedSet set = t.open(RetainCrashChild.options(clock, policy, spanFanout, codec))) {
                long lastSeq = set.lastSeq();
                List<Transaction> txs = set.transactions();
                List<Long> now = HorizonTest.boundaries(set);
                String c = c0 + ", recovered lastSeq " + lastSeq + ", boundaries " + now + ", interrupted pass " + last.number
                        + (last.done ? " (reported done)" : "") + " over boundaries up to " + last.newest + ": before " + last.before
                        + ", kept " + last.kept + (staging ? ", retain/ was left" : "");

                // every flushed write is there
                assertTrue(lastSeq >= highestFlushed, c + ": a flushed seq was lost (highest " + highestFlushed + ")");
                model.imageAt(lastSeq).assertPrimaryEquals(set, c + ": the primary at lastSeq");

                // the interrupted pass: all of it or none of it
                boolean after = RetainedHistory.beforeOrAfter(now, last.newest, last.before, last.kept, c);
                boolean before = !after || last.before.equals(last.kept);
                if (last.done) {
                    assertTrue(after, c + ": a pass the child reported done stays done");
                }
                for (long cut : cutsReported) {
                    if (cut > last.newest) {
                        assertTrue(now.contains(cut), c + ": the cut at seq " + cut + " the child reported after the pass began is kept");
                    }
                }
                boolean changes = !last.before.equals(last.kept);
                if (!last.done && changes) {
                    rolledBack += before ? 1 : 0;
                    committedUnreported += after ? 1 : 0;
                }
                boolean inside = staging || !last.done && changes && after;
                insidePass += inside ? 1 : 0;

                RetainedHistory.assertSecondaryHoldsOnlyTheLog(set, secondary, c);
                RetainedHistory.assertBoundariesReadAsModel(set, model::imageAt, c);
                long target = round % 2 == 0 ? now.get(random.nextInt(now.size()))
                        : set.oldestExactSeq() + (long) (random.nextDouble() * (lastSeq - set.oldestExactSeq() + 1));
                Path clone = tmp.resolve("clone-" + round + "-" + target);
                set.cloneTo(target, clone, ProgressListener.NONE);
                model.imageAt(target).assertCloneEquals(set, clone, c + ", clone at " + (round % 2 == 0 ? "boundary " : "exact seq ") + target);
                CaptureModelTest.deleteTree(clone);

                // the whole set verifies (journal, increments, merged ones too, span maps, replicas)
                set.verify(); // throws, naming the file, if a record, increment, span map or replica chunk does not verify

                System.out.printf("RetainCrashIT: round %d: lastSeq %d, %d transactions, boundaries %s; %d pass(es) begun, the last %s%s%n",
                        round, lastSeq, txs.size(), now, passes.size(),
                        last.done ? "done" : !changes ? "changing nothing" : before ? "rolled back" : "committed, unreported",
                        staging ? ", retain/ left" : "");
                boundaries = now;
                model.forgetBefore(now.get(0));
                clockAt = clock.instant().plus(Duration.ofMinutes(1));
            }
            CaptureModelTest.deleteTree(err);
        }
        System.out.printf("RetainCrashIT: %s: %d kills, %d inside a pass (%d left retain/, %d rolled back, %d committed but unreported);"
                        + " %d passes begun, %d done; %.1f s%n", ctx0, rounds, insidePass, stagingLeft, rolledBack, committedUnreported,
                passesBegun, passesDone, (System.nanoTime() - started) / 1e9);
        assertTrue(insidePass >= rounds / 4, ctx0 + ": a good share of the kills should land inside a pass; only " + insidePass + " of "
                + rounds + " did");
    }

    /** What the child printed about one pass. */
    private static final class Pass {
        final int number;
        final long newest;
        final List<Long> before;
        final List<Long> kept;
        boolean done;

        Pass(int number, long newest, List<Long> before, List<Long> kept) {
            this.number = number;
            this.newest = newest;
            this.before = before;
            this.kept = kept;
        }
    }

    private static List<Long> upTo(List<Long> seqs, long newest) {
        return seqs.stream().filter(s -> s <= newest).toList();
    }

    private static String tail(List<String> lines) {
        return lines.size() <= 6 ? lines.toString() : "[..., " + String.join(", ", lines.subList(lines.size() - 6, lines.size())) + "]";
    }
}
