package dev.rewind.capture;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * The child JVM of {@link RetainCrashIT}: opens the set on a {@link MovingClock} started at
 * the instant the parent gives (so simulated time keeps moving across rounds), then, until it
 * is killed, steps: moves its clock on by a few minutes ({@code CLOCK <epoch millis>}), runs
 * {@link CrashWorkload} from {@code lastSeq + 1} for some ops, flushes ({@code FLUSHED <seq>}),
 * cuts ({@code CUT <id> <lastSeq>}), reads a little at the oldest boundary (which builds the
 * merged delta maps it crosses), and runs a retention pass under a policy of short rules, so
 * that most passes merge and many drop. Before a pass it prints
 * {@code PASS <n> <newest boundary> <boundaries before> <boundaries the plan keeps>} ({@code PASS+}
 * when the plan changes anything), after it
 * {@code RETAINED <n> <merged> <dropped> <millis>}; boundary lists are comma separated.
 *
 * <p>Arguments: {@code <root> <seed> <start epoch millis> <policy> <span fanout> <codec> <step seed>}.
 * Exits by itself only on error, or when its stdin closes (the parent is gone).
 */
public final class RetainCrashChild {
    static final String SET = "retaincrash";

    private RetainCrashChild() {
    }

    /** How the child and the parent open the set. */
    static CaptureOptions options(Clock clock, RetentionPolicy policy, int spanFanout, IncrementCodec codec) {
        return new CaptureOptions(1L << 20, clock, Duration.ZERO).withCodec(codec).withSpanFanout(spanFanout)
                .withKeepEveryWrite(policy.everyWrite());
    }

    static String csv(Collection<Long> seqs) {
        return seqs.isEmpty() ? "-" : seqs.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    static List<Long> parseCsv(String text) {
        List<Long> out = new ArrayList<>();
        if (!text.equals("-")) {
            for (String s : text.split(",")) {
                out.add(Long.parseLong(s));
            }
        }
        return out;
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (IOException | RuntimeException e) {
            e.printStackTrace();
            Runtime.getRuntime().halt(4); // the set's own threads must not keep a failed child alive
        }
    }

    private static void run(String[] args) throws IOException {
        Path root = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        MovingClock clock = MovingClock.at(Instant.ofEpochMilli(Long.parseLong(args[2])));
        RetentionPolicy policy = RetentionPolicy.parse(args[3]);
        int spanFanout = Integer.parseInt(args[4]);
        IncrementCodec codec = IncrementCodec.valueOf(args[5]);
        Random steps = new Random(Long.parseLong(args[6]));
        ChildJvm.exitWhenParentGoes();

        TestSet t = TestSet.attach(root, SET);
        CapturedSet set = t.open(options(clock, policy, spanFanout, codec));
        t.close(); // keep the kills away from the H2 catalog, as CrashWorkloadChild does
        set.retentionPolicy(policy);
        long[] sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
        System.out.println("OPENED " + set.lastSeq() + " " + csv(HorizonTest.boundaries(set)));
        System.out.flush();

        for (int pass = 1; ; pass++) {
            clock.advance(Duration.ofMinutes(4 + steps.nextInt(12)));
            System.out.println("CLOCK " + clock.instant().toEpochMilli());
            for (int i = 0, n = 10 + steps.nextInt(30); i < n; i++) {
                long seq = set.lastSeq() + 1;
                CrashWorkload.Op op = CrashWorkload.op(seed, seq, sizes);
                long got = op.runOn(set);
                if (got != seq) {
                    System.err.println("op " + op + " got seq " + got + ", expected " + seq);
                    Runtime.getRuntime().halt(3);
                }
            }
            set.flush();
            System.out.println("FLUSHED " + set.lastSeq());
            set.cut(CutReason.DEMAND).ifPresent(tx -> System.out.println("CUT " + tx.id() + " " + tx.lastSeq()));
            List<Long> before = HorizonTest.boundaries(set);
            set.readAt(before.get(0), steps.nextInt(sizes.length), 0, ByteBuffer.allocate(4096));

            RetentionPlan plan = set.planRetention();
            List<Long> kept = new ArrayList<>(plan.kept().keySet());
            System.out.println((plan.isEmpty() ? "PASS " : "PASS+ ") + pass + " " + before.get(before.size() - 1) + " " + csv(before) + " " + csv(kept));
            System.out.flush();
            long passStarted = System.nanoTime();
            Retention.Result result = set.retain(plan);
            List<Long> after = HorizonTest.boundaries(set);
            if (!after.equals(kept)) {
                System.err.println("pass " + pass + " left boundaries " + after + ", the plan kept " + kept);
                Runtime.getRuntime().halt(5);
            }
            System.out.println("RETAINED " + pass + " " + result.merged() + " " + result.dropped() + " "
                    + (System.nanoTime() - passStarted) / 1_000_000);
            System.out.flush();
        }
    }
}
