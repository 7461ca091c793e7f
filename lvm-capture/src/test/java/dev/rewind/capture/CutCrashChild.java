package dev.rewind.capture;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.CutRules;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * The child JVM of {@link CutCrashIT}: opens the set (running recovery, which rolls back or
 * redoes a cut the previous child was killed in), then runs {@link CrashWorkload} from
 * {@code lastSeq + 1} until it is killed, while transactions are cut all the time: by the
 * count rule (every {@code cutWrites} writes, on the set's cut thread) and on demand from a
 * thread of its own that asks for a cut after a random pause of up to {@code demandMaxMillis}.
 * After every {@code flushEvery}-th op it flushes and prints {@code FLUSHED <seq>}; after every
 * committed cut it prints {@code CUT <id> <lastSeq> <reason>}.
 *
 * <p>Arguments: {@code <root> <seed> <flushEvery> <cutWrites> <demandMaxMillis> <codec> <demandSeed>}.
 * Exits by itself only on error, or when its stdin closes (the parent is gone).
 */
public final class CutCrashChild {
    static final String SET = "cutcrash";

    private CutCrashChild() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int flushEvery = Integer.parseInt(args[2]);
        long cutWrites = Long.parseLong(args[3]);
        int demandMaxMillis = Integer.parseInt(args[4]);
        IncrementCodec codec = IncrementCodec.valueOf(args[5]);
        Random demandTiming = new Random(Long.parseLong(args[6]));
        ChildJvm.exitWhenParentGoes();

        TestSet t = TestSet.attach(root, SET);
        CapturedSet set = t.open(CrashWorkload.OPTIONS.withCutRules(CutRules.NONE.withWrites(cutWrites)).withCodec(codec));
        t.close(); // keep the kills away from the H2 catalog, as CrashWorkloadChild does
        set.transactionService().addListener(tx -> {
            System.out.println("CUT " + tx.id() + " " + tx.lastSeq() + " " + tx.reason());
            System.out.flush();
        });
        long[] sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
        System.out.println("OPENED lastSeq=" + set.lastSeq() + " transactions=" + set.transactions().size() + " recovery="
                + set.recovery());
        System.out.flush();

        Thread demand = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(demandTiming.nextInt(demandMaxMillis + 1));
                    set.cut(CutReason.DEMAND);
                }
            } catch (IOException | RuntimeException | InterruptedException e) {
                e.printStackTrace();
                Runtime.getRuntime().halt(4);
            }
        }, "demand-cuts");
        demand.setDaemon(true);
        demand.start();

        while (true) {
            long seq = set.lastSeq() + 1;
            CrashWorkload.Op op = CrashWorkload.op(seed, seq, sizes);
            long got = op.runOn(set);
            if (got != seq) {
                System.err.println("op " + op + " got seq " + got + ", expected " + seq);
                Runtime.getRuntime().halt(3);
            }
            if (seq % flushEvery == 0) {
                set.flush();
                System.out.println("FLUSHED " + seq);
                System.out.flush();
            }
        }
    }
}
