package dev.rewind.capture;

import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The child JVM of {@link CrashIT}: opens the set (running recovery), then runs
 * {@link CrashWorkload} from {@code lastSeq + 1} until it is killed. After every
 * {@code flushEvery}-th op it flushes and prints {@code FLUSHED <seq>}: everything up to
 * that seq must survive the kill.
 *
 * <p>Arguments: {@code <root> <seed> <flushEvery>}. Exits by itself only on error, or when
 * its stdin closes (the parent is gone), so it never outlives the test.
 */
public final class CrashWorkloadChild {
    private CrashWorkloadChild() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        int flushEvery = Integer.parseInt(args[2]);
        ChildJvm.exitWhenParentGoes();

        TestSet t = TestSet.attach(root, CrashWorkload.SET);
        CapturedSet set = t.open(CrashWorkload.OPTIONS);
        // The set needs its catalog only to open. Closing it keeps the kills away from the
        // H2 catalog file, which is not what this test is about (a kill -9 of a process holding
        // the H2 catalog open once left it half-migrated; see the crash test's report).
        t.close();
        long[] sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
        System.out.println("OPENED lastSeq=" + set.lastSeq() + " recovery=" + set.recovery());
        System.out.flush();
        while (true) {
            long seq = set.lastSeq() + 1;
            CrashWorkload.Op op = CrashWorkload.op(seed, seq, sizes);
            long got = op.runOn(set);
            if (got != seq) {
                System.err.println("op " + op + " got seq " + got + ", expected " + seq);
                System.exit(3);
            }
            if (seq % flushEvery == 0) {
                set.flush();
                System.out.println("FLUSHED " + seq);
                System.out.flush();
            }
        }
    }
}
