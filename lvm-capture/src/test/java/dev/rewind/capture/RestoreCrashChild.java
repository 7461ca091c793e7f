package dev.rewind.capture;

import dev.rewind.testfixtures.set.TestSet;

import dev.rewind.increments.replica.ProgressListener;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The child JVM of {@link RestoreCrashIT}: opens the set (running recovery); if a restore in
 * place was interrupted, resumes it; then restores in place to seq A, then B, then A, ... until
 * it is killed. Every piece a restore writes is followed by a 1 ms pause, so that the kills land
 * mostly while a restore is writing. Prints {@code OPENED}, {@code RESUMED <target>} and
 * {@code DONE <target>}.
 *
 * <p>Arguments: {@code <root> <seqA> <seqB> <stagedRestoreBytes>}. Exits by itself only on
 * error, or when its stdin closes (the parent is gone).
 */
public final class RestoreCrashChild {
    static final String SET = "rcrash";

    private RestoreCrashChild() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]);
        long[] targets = {Long.parseLong(args[1]), Long.parseLong(args[2])};
        long stagedRestoreBytes = Long.parseLong(args[3]);
        ChildJvm.exitWhenParentGoes();

        TestSet t = TestSet.attach(root, SET);
        CapturedSet set = t.open(CrashWorkload.OPTIONS);
        t.close(); // keep the kills away from the H2 catalog, as CrashWorkloadChild does
        set.stagedRestoreBytes(stagedRestoreBytes);
        System.out.println("OPENED lastSeq=" + set.lastSeq());
        System.out.flush();
        ProgressListener pause = bytes -> {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        if (set.interruptedRestore().isPresent()) {
            long target = set.interruptedRestore().get().intent().targetSeq();
            set.resumeRestore(pause);
            System.out.println("RESUMED " + target);
            System.out.flush();
        }
        for (int i = 0; ; i++) {
            long target = targets[i % 2];
            set.restoreInPlace(target, pause);
            System.out.println("DONE " + target);
            System.out.flush();
        }
    }
}
