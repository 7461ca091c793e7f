package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Reads of the past (what read-only exports serve) equal a model's image at that seq, for random ranges. */
class PointInTimeReadTest {
    private static final int[] SIZES = {256 << 10, 100_000};

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(1, 30);
    }

    private record Op(int member, boolean zero, long offset, byte[] data, int length) {
    }

    private static byte[][] imageAt(List<Op> ops, long seq) {
        byte[][] image = new byte[SIZES.length][];
        for (int m = 0; m < SIZES.length; m++) {
            image[m] = new byte[(SIZES[m] + 65535) / 65536 * 65536];
        }
        for (int i = 0; i < seq; i++) {
            Op op = ops.get(i);
            if (op.zero()) {
                Arrays.fill(image[op.member()], (int) op.offset(), (int) op.offset() + op.length(), (byte) 0);
            } else {
                System.arraycopy(op.data(), 0, image[op.member()], (int) op.offset(), op.length());
            }
        }
        return image;
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void readsAtRandomSeqsMatchTheModel(long seed) throws Exception {
        Random rnd = new Random(seed);
        List<Op> ops = new ArrayList<>();
        try (TestSet t = TestSet.create(tmp, "s", SIZES[0], SIZES[1]); CapturedSet set = t.open()) {
            int count = 50 + rnd.nextInt(250);
            for (int i = 0; i < count; i++) {
                int member = rnd.nextInt(SIZES.length);
                BlockDevice device = set.devices().get(member);
                int length = 1 + rnd.nextInt(rnd.nextBoolean() ? 512 : 20_000);
                long offset = rnd.nextInt((int) device.sizeBytes() - length);
                if (rnd.nextInt(6) == 0) {
                    if (rnd.nextBoolean()) {
                        device.trim(offset, length, false);
                    } else {
                        device.writeZeroes(offset, length, false);
                    }
                    ops.add(new Op(member, true, offset, null, length));
                } else {
                    byte[] data = new byte[length];
                    rnd.nextBytes(data);
                    device.write(offset, ByteBuffer.wrap(data), false);
                    ops.add(new Op(member, false, offset, data, length));
                }
            }
            for (int probe = 0; probe < 40; probe++) {
                long seq = probe == 0 ? 0 : probe == 1 ? set.lastSeq() : rnd.nextInt((int) set.lastSeq() + 1);
                byte[][] model = imageAt(ops, seq);
                int member = rnd.nextInt(SIZES.length);
                int size = (int) set.devices().get(member).sizeBytes();
                int length = 1 + rnd.nextInt(Math.min(size, 70_000));
                int offset = rnd.nextInt(size - length + 1);
                ByteBuffer got = ByteBuffer.allocate(length);
                set.readAt(seq, member, offset, got);
                assertArrayEquals(Arrays.copyOfRange(model[member], offset, offset + length), got.array(),
                        Seeds.describe(seed) + ": member " + member + " bytes " + offset + "+" + length + " at seq " + seq);
            }
        }
    }
}
