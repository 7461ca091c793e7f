package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.increments.increment.IncrementHeader;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cuts survive SIGKILL: a child JVM ({@link CutCrashChild}) captures {@link CrashWorkload}
 * while transactions are cut all the time (every 50 to 200 writes, and on demand from another
 * thread), and is killed at a random instant, which mostly falls inside a cut: while an
 * increment is written, between its rename and the commit, or while the replica moves. The
 * parent reopens the set (recovery rolls the cut back or redoes it) and checks that
 * <ul>
 *   <li>every flushed write is there: the primary equals the model at the recovered lastSeq,
 *       which is at least the last {@code FLUSHED} seq;</li>
 *   <li>the committed transactions are contiguous from seq 1, and those of earlier rounds are
 *       unchanged;</li>
 *   <li>the replica file of every member equals the model at the last committed transaction's
 *       lastSeq;</li>
 *   <li>{@code increments/} holds exactly {@code <id>.fwd} and {@code <id>.bwd} for the committed
 *       ids 1..N, nothing temporary or orphaned, each opening and verifying, with the header of
 *       its transaction; the forward increment of a random transaction turns the model at its
 *       start into the model at its end, and the backward increment turns it back;</li>
 *   <li>{@code verify()} of the set passes;</li>
 *   <li>a clone at a random transaction boundary (read through the backward increments) and
 *       at a random exact seq equal the model.</li>
 * </ul>
 * Before reopening, the parent looks at what the kill left (temporary increment files,
 * complete increments no transaction committed, a replica behind the newest commit) and counts
 * the rounds in which the kill fell inside a cut; at least a quarter must, or the test proves
 * little.
 *
 * <p>{@code -Drewind.crash.rounds=N} rounds per seed (default 16; two seeds), {@code -Drewind.seed=S}
 * replays one seed's workload and rules (the kill instants still race with the child).
 */
class CutCrashIT {
    private static final int FLUSH_EVERY = 40;
    private static final long[] MEMBER_BYTES = {2L << 20, 4L << 20, 3L << 20};

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.of(0xC07C_0001L, 0xC07C_0002L);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void sigkillDuringCutsLeavesCommittedCutsWholeAndNothingOrphaned(long seed) throws Exception {
        int rounds = Integer.getInteger("rewind.crash.rounds", 16);
        Random random = new Random(seed);
        String ctx0 = Seeds.describe(seed);
        System.out.println("CutCrashIT: " + ctx0 + ", " + rounds + " rounds");

        String classPath = ChildJvm.snapshotClassPath(tmp.resolve("classpath"));
        Path root = tmp.resolve("set");
        long[] sizes;
        List<String> names;
        Path secondary;
        try (TestSet t = TestSet.create(root, CutCrashChild.SET, MEMBER_BYTES);
             CapturedSet set = t.open(CrashWorkload.OPTIONS)) {
            sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
            names = set.devices().stream().map(BlockDevice::name).toList();
            secondary = t.volumes.findSet(CutCrashChild.SET).secondaryDir();
        }
        Path incrementDir = secondary.resolve("increments");
        Path replicaDir = secondary.resolve("replica");
        CrashIT.SeqModel model = new CrashIT.SeqModel(seed, sizes);

        int insideCut = 0;
        int writingIncrement = 0;
        int uncommittedIncrements = 0;
        int replicaMoveCutShort = 0;
        long highestFlushed = 0;
        long lastSeq = 0;
        List<Transaction> committed = List.of();
        long started = System.nanoTime();
        for (int round = 1; round <= rounds; round++) {
            long cutWrites = 50 + random.nextInt(151);
            int demandMaxMillis = 5 + random.nextInt(96);
            IncrementCodec codec = IncrementCodec.values()[random.nextInt(IncrementCodec.values().length)];
            String ctx = ctx0 + ", round " + round + " (cut every " + cutWrites + " writes, on demand within " + demandMaxMillis
                    + " ms, " + codec + ")";
            Path err = root.resolve("child-" + round + ".err");
            long flushed;
            List<String> said;
            try (ChildJvm child = ChildJvm.start(classPath, CutCrashChild.class, err, "FLUSHED ", root.toString(), Long.toString(seed),
                    Integer.toString(FLUSH_EVERY), Long.toString(cutWrites), Integer.toString(demandMaxMillis), codec.name(),
                    Long.toString(random.nextLong()))) {
                child.awaitReady(ctx);
                Thread.sleep(50 + random.nextInt(400));
                child.kill(ctx);
                flushed = child.lastFlushed();
                said = child.lines();
            }
            assertTrue(flushed > lastSeq, ctx + ": the child flushed past the previous lastSeq " + lastSeq + ", got " + flushed);
            highestFlushed = Math.max(highestFlushed, flushed);

            // what the kill left, before recovery touches it
            List<Path> left = list(incrementDir);
            long temporary = left.stream().filter(IncrementFile::isTemporary).count();
            long[] replicaSeqs = new long[names.size()];
            for (int m = 0; m < names.size(); m++) {
                try (ReplicaImage r = ReplicaImage.open(replicaDir, names.get(m), sizes[m])) {
                    replicaSeqs[m] = r.seq();
                }
            }

            try (TestSet t = TestSet.attach(root, CutCrashChild.SET);
                 CapturedSet set = t.open(CrashWorkload.OPTIONS)) {
                long last = set.lastSeq();
                List<Transaction> txs = set.transactions();
                long committedSeq = txs.isEmpty() ? 0 : txs.get(txs.size() - 1).lastSeq();
                String c = ctx + ", last FLUSHED " + flushed + ", recovered lastSeq " + last + ", " + txs.size()
                        + " transactions up to seq " + committedSeq + ", " + set.recovery() + ", child said " + tail(said);

                // (a) nothing flushed is lost; the primary is the model at lastSeq
                assertTrue(last >= flushed, c + ": a flushed seq was lost");
                assertTrue(last >= highestFlushed, c + ": a seq flushed in an earlier round was lost (highest " + highestFlushed + ")");
                assertEquals(last, set.flushedSeq(), c + ": what survived recovery is durable");
                model.imageAt(last).assertPrimaryEquals(set, c);

                // committed transactions: contiguous, within the journal, earlier ones unchanged
                assertEquals(committed, txs.subList(0, Math.min(committed.size(), txs.size())),
                        c + ": the transactions committed before this round are unchanged");
                assertTrue(txs.size() >= committed.size(), c + ": a committed transaction was lost");
                long expectedFirst = 1;
                for (int i = 0; i < txs.size(); i++) {
                    Transaction tx = txs.get(i);
                    assertEquals(i + 1, tx.id(), c + ": transaction ids run 1..N");
                    assertEquals(expectedFirst, tx.firstSeq(), c + ": transaction " + tx.id() + " starts after the one before");
                    assertTrue(tx.lastSeq() >= tx.firstSeq() && tx.lastSeq() <= last, c + ": transaction " + tx);
                    expectedFirst = tx.lastSeq() + 1;
                }

                // (b) the replica is the model at the last commit
                ImageModel atCommit = model.imageAt(committedSeq);
                for (int m = 0; m < names.size(); m++) {
                    ImageModel.assertSameBytes(c + ", replica of " + names.get(m) + " at seq " + committedSeq, atCommit.bytes(m),
                            Files.readAllBytes(replicaDir.resolve(names.get(m) + ".img")));
                }

                // (c) exactly the committed increments, whole
                Set<String> expectedNames = new TreeSet<>();
                for (Transaction tx : txs) {
                    for (IncrementDirection d : IncrementDirection.values()) {
                        expectedNames.add(set.history().increments().path(tx.id(), d).getFileName().toString());
                    }
                }
                Set<String> present = new TreeSet<>(list(incrementDir).stream().map(p -> p.getFileName().toString()).toList());
                assertEquals(expectedNames, present, c + ": increments/ holds the committed increments and nothing else");
                for (Transaction tx : txs) {
                    for (IncrementDirection d : IncrementDirection.values()) {
                        Path file = set.history().increments().path(tx.id(), d);
                        try (IncrementFile f = IncrementFile.open(file)) {
                            f.verify();
                            IncrementHeader h = f.header();
                            assertEquals(List.of(set.uuid(), tx.id(), d, tx.firstSeq(), tx.lastSeq(), names.size(), tx.codec()),
                                    List.of(h.setUuid(), h.transactionId(), h.direction(), h.firstSeq(), h.lastSeq(), h.memberCount(),
                                            h.codec()), c + ": header of " + file.getFileName());
                        }
                    }
                }
                if (!txs.isEmpty()) {
                    Transaction tx = txs.get(random.nextInt(txs.size()));
                    ImageModel before = model.imageAt(tx.firstSeq() - 1);
                    ImageModel after = model.imageAt(tx.lastSeq());
                    String ct = c + ", transaction " + tx.id();
                    assertImagesEqual(ct + ", forward increment applied to its start", after,
                            apply(before, set.history().increments().path(tx.id(), IncrementDirection.FORWARD)));
                    assertImagesEqual(ct + ", backward increment applied to its end", before,
                            apply(after, set.history().increments().path(tx.id(), IncrementDirection.BACKWARD)));
                }

                // (d) the whole set verifies
                assertEquals(last, set.verify(), c + ": every record, increment and replica chunk verifies");

                // (e) the past through the increments
                int pick = random.nextInt(txs.size() + 1);
                long boundary = pick == 0 ? 0 : txs.get(pick - 1).lastSeq();
                long exact = (long) (random.nextDouble() * (last + 1));
                for (long target : new long[] {boundary, exact}) {
                    Path clone = tmp.resolve("clone-" + round + "-" + target);
                    set.cloneTo(target, clone, ProgressListener.NONE);
                    model.imageAt(target).assertCloneEquals(set, clone, c + ", clone at seq " + target);
                    CaptureModelTest.deleteTree(clone);
                }

                // where the kill fell
                boolean behind = false;
                for (long s : replicaSeqs) {
                    behind |= s < committedSeq;
                }
                long uncommitted = left.stream().filter(p -> !IncrementFile.isTemporary(p))
                        .filter(p -> !expectedNames.contains(p.getFileName().toString())).count();
                writingIncrement += temporary > 0 ? 1 : 0;
                uncommittedIncrements += uncommitted > 0 ? 1 : 0;
                replicaMoveCutShort += behind ? 1 : 0;
                insideCut += temporary > 0 || uncommitted > 0 || behind ? 1 : 0;
                System.out.printf("CutCrashIT: round %d: lastSeq %d, %d transactions; the kill left %d temporary and %d uncommitted"
                        + " increment files, replicas at %s of %d; the child cut %d times%n", round, last, txs.size(), temporary,
                        uncommitted, java.util.Arrays.toString(replicaSeqs), committedSeq,
                        said.stream().filter(l -> l.startsWith("CUT ")).count());
                committed = txs;
                lastSeq = last;
            }
            CaptureModelTest.deleteTree(err);
        }
        System.out.printf("CutCrashIT: %s: %d kills, %d inside a cut (%d while an increment was written, %d with complete"
                        + " increments not yet committed, %d while the replica moved), %d transactions, lastSeq %d, %.1f s%n", ctx0,
                rounds, insideCut, writingIncrement, uncommittedIncrements, replicaMoveCutShort, committed.size(), lastSeq,
                (System.nanoTime() - started) / 1e9);
        assertTrue(insideCut >= rounds / 4, ctx0 + ": most kills should land inside a cut; only " + insideCut + " of " + rounds + " did");
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private static String tail(List<String> lines) {
        return lines.size() <= 6 ? lines.toString() : "[..., " + String.join(", ", lines.subList(lines.size() - 6, lines.size())) + "]";
    }

    /** {@code image} with every extent of the increment {@code file} written over it. */
    private static ImageModel apply(ImageModel image, Path file) throws IOException {
        ImageModel[] out = {image};
        try (IncrementFile f = IncrementFile.open(file)) {
            f.forEach((member, offset, length, data) -> {
                if (data == null) {
                    out[0] = out[0].zero(member, offset, length);
                } else {
                    byte[] bytes = new byte[length];
                    data.duplicate().get(bytes);
                    out[0] = out[0].write(member, offset, bytes);
                }
            });
        }
        return out[0];
    }

    private static void assertImagesEqual(String context, ImageModel expected, ImageModel actual) {
        for (int m = 0; m < expected.memberCount(); m++) {
            ImageModel.assertSameBytes(context + ", member " + m, expected.bytes(m), actual.bytes(m));
        }
    }
}
