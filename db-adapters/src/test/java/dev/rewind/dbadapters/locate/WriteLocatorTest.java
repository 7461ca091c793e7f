package dev.rewind.dbadapters.locate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.catalog.RestoreRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test of {@link WriteLocator}: a seeded random workload of writes, write-zeroes
 * and trims on two members, concentrated on a small hot region so that writes overlap and
 * rewrite the same bytes, runs against a real set while a model keeps every member's image
 * after every seq and which range each seq touched. Then random questions: bytes some seq
 * left somewhere, a random window, a lineage with random undone ranges; the answer must be
 * what brute force over the model gives (the first seq of the window and lineage that
 * touched the range and after which the bytes there equal the expected ones).
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}.
 */
class WriteLocatorTest {
    private static final int MEMBER_BYTES = 128 << 10;
    private static final int HOT_BYTES = 16 << 10;
    private static final int SECTOR = 512;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x10CA_7000L, 20);
    }

    /** What one seq did, as the model records it. */
    private record Op(int member, long offsetBytes, long lengthBytes) {
        boolean overlaps(int m, long offset, long length) {
            return member == m && offsetBytes < offset + length && offset < offsetBytes + lengthBytes;
        }
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void firstWriteOfMatchesBruteForceOverTheModel(long seed) throws IOException {
        Random r = new Random(seed);
        try (TestSet t = TestSet.create(tmp, "locate", MEMBER_BYTES, MEMBER_BYTES); CapturedSet set = t.open()) {
            List<byte[][]> images = new ArrayList<>(); // images.get(seq): both members after seq
            List<Op> ops = new ArrayList<>();
            images.add(new byte[][] {new byte[MEMBER_BYTES], new byte[MEMBER_BYTES]});
            ops.add(null);
            int writes = 60 + r.nextInt(120);
            for (int i = 0; i < writes; i++) {
                int member = r.nextInt(2);
                long offset = (long) r.nextInt(HOT_BYTES / SECTOR) * SECTOR;
                int length = (1 + r.nextInt(8)) * SECTOR;
                length = (int) Math.min(length, MEMBER_BYTES - offset);
                byte[][] next = {images.get(images.size() - 1)[0].clone(), images.get(images.size() - 1)[1].clone()};
                int kind = r.nextInt(10);
                long seq;
                if (kind < 7) {
                    byte[] data = new byte[length];
                    if (r.nextBoolean()) {
                        r.nextBytes(data);
                    } else {
                        Arrays.fill(data, (byte) r.nextInt(3)); // repeated patterns: the same bytes written again
                    }
                    System.arraycopy(data, 0, next[member], (int) offset, length);
                    seq = set.device("m" + member).write(offset, ByteBuffer.wrap(data), false);
                } else {
                    Arrays.fill(next[member], (int) offset, (int) offset + length, (byte) 0);
                    seq = kind < 9 ? set.device("m" + member).writeZeroes(offset, length, false)
                            : set.device("m" + member).trim(offset, length, false);
                }
                assertEquals(images.size(), seq, Seeds.describe(seed) + ": seqs are numbered 1, 2, ...");
                images.add(next);
                ops.add(new Op(member, offset, length));
            }
            long head = set.lastSeq();
            for (int q = 0; q < 40; q++) {
                int member = r.nextInt(2);
                long offset = (long) r.nextInt(HOT_BYTES / SECTOR) * SECTOR + (r.nextBoolean() ? r.nextInt(SECTOR) : 0);
                int length = 1 + r.nextInt(2 * SECTOR);
                int source = 1 + r.nextInt((int) head);
                byte[] expected = Arrays.copyOfRange(images.get(source)[member], (int) offset, (int) offset + length);
                long from = 1 + r.nextInt((int) head);
                long to = from + r.nextInt((int) (head - from + 1));
                if (r.nextInt(4) == 0) {
                    from = 1;
                    to = head;
                }
                Lineage lineage = randomLineage(r, head);

                OptionalLong expectedSeq = OptionalLong.empty();
                for (long s = from; s <= to; s++) {
                    if (lineage.contains(s) && ops.get((int) s).overlaps(member, offset, length)
                            && Arrays.equals(expected, Arrays.copyOfRange(images.get((int) s)[member], (int) offset, (int) offset + length))) {
                        expectedSeq = OptionalLong.of(s);
                        break;
                    }
                }
                WriteLocator.Match m = WriteLocator.firstWriteOf(set, member, offset, expected, from, to, lineage);
                assertEquals(expectedSeq, m.seq(), Seeds.describe(seed) + ", question " + q + ": member " + member + " bytes " + offset + "+"
                        + length + " as seq " + source + " left them, window " + from + ".." + to + ", lineage " + lineage.ranges());
            }
        }
    }

    /** Everything, or a few restores in place whose undone seqs are left out. */
    private static Lineage randomLineage(Random r, long head) {
        List<RestoreRecord> restores = new ArrayList<>();
        long at = 1;
        while (r.nextInt(3) > 0 && at + 4 < head) {
            long target = at + r.nextInt((int) Math.min(20, head - at - 3));
            long first = target + 1 + r.nextInt(3);
            long last = first + r.nextInt(3);
            if (last >= head) {
                break;
            }
            restores.add(new RestoreRecord("locate", target, first, last, 0, 0));
            at = last + 1;
        }
        return Lineage.of(restores, head);
    }
}
