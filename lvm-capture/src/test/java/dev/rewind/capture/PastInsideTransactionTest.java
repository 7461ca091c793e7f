package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Exact writes inside committed transactions, with writes after the newest cut: every seq,
 * read through {@link CapturedSet#readAt} and cloned, equals the model. A seq inside an older
 * transaction needs that transaction's journal records from its start, then the backward
 * increments of the transactions after it, then the replica (once, the journal part was
 * skipped whenever the replica was newer than the seq, and such reads came back as the
 * transaction's start).
 */
class PastInsideTransactionTest {
    private static final int OPS = 120;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x1A51_0001L, 6);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void everySeqInsideAndAfterTransactionsReadsAndClonesAsTheModel(long seed) throws Exception {
        Random random = new Random(seed);
        String ctx0 = Seeds.describe(seed);
        try (TestSet t = TestSet.create(tmp.resolve("set"), "inside", 512 << 10, 768 << 10);
             CapturedSet set = t.open(CrashWorkload.OPTIONS)) {
            long[] sizes = set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray();
            CrashIT.SeqModel model = new CrashIT.SeqModel(seed, sizes);
            int lastCutAt = OPS - 10 - random.nextInt(30);
            for (long s = 1; s <= OPS; s++) {
                CrashWorkload.op(seed, s, sizes).runOn(set);
                if (s == lastCutAt || (s < lastCutAt && random.nextInt(25) == 0)) {
                    assertTrue(set.cut(CutReason.DEMAND).isPresent(), ctx0 + ": cut at seq " + s);
                }
            }
            String ctx = ctx0 + ", transactions " + set.transactions();
            for (long seq = 0; seq <= OPS; seq++) {
                ImageModel expected = model.imageAt(seq);
                for (int m = 0; m < sizes.length; m++) {
                    ByteBuffer got = ByteBuffer.allocate((int) sizes[m]);
                    set.readAt(seq, m, 0, got);
                    ImageModel.assertSameBytes(ctx + ", readAt seq " + seq + ", member " + m, expected.bytes(m), got.array());
                }
                if (seq % 7 == 0) {
                    Path clone = tmp.resolve("clone-" + seq);
                    set.cloneTo(seq, clone, ProgressListener.NONE);
                    expected.assertCloneEquals(set, clone, ctx + ", clone at seq " + seq);
                    CaptureModelTest.deleteTree(clone);
                }
            }
        }
    }
}
