package dev.rewind.capture;

import dev.rewind.increments.restore.RestoreResult;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.testfixtures.set.TestSet;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CapturedSetSmokeTest {
    @TempDir
    Path tmp;

    @Test
    void writeThenRestoreInPlaceAndClone() throws Exception {
        try (TestSet t = TestSet.create(tmp, "s", 256 << 10, 128 << 10)) {
            byte[] a = new byte[5000];
            java.util.Arrays.fill(a, (byte) 7);
            byte[] b = new byte[3000];
            java.util.Arrays.fill(b, (byte) 9);
            try (CapturedSet set = t.open()) {
                BlockDevice m0 = set.device("m0");
                assertEquals(1, m0.write(1000, ByteBuffer.wrap(a), false));
                assertEquals(2, m0.write(3000, ByteBuffer.wrap(b), true));
                assertEquals(2, set.flushedSeq());
                set.cloneTo(1, tmp.resolve("clone"), ProgressListener.NONE);
                RestoreResult r = set.restoreInPlace(1, ProgressListener.NONE);
                assertEquals(3, r.firstSeq());
                ByteBuffer got = ByteBuffer.allocate(8000);
                m0.read(0, got);
                byte[] expected = new byte[8000];
                System.arraycopy(a, 0, expected, 1000, a.length);
                assertArrayEquals(expected, got.array());
                byte[] clone = Files.readAllBytes(tmp.resolve("clone/m0.img"));
                assertEquals(256 << 10, clone.length);
                assertArrayEquals(expected, java.util.Arrays.copyOf(clone, 8000));
            }
            try (CapturedSet set = t.open()) {
                assertEquals(set.lastSeq(), set.flushedSeq());
                assertEquals(0, set.recovery().dirtyRegions());
            }
        }
    }

    @Test
    void cutsMoveTheReplicaAndThePastStillReadsExactly() throws Exception {
        try (TestSet t = TestSet.create(tmp, "s", 256 << 10, 128 << 10)) {
            byte[][] images = new byte[5][];
            byte[] image = new byte[256 << 10];
            images[0] = image.clone();
            try (CapturedSet set = t.open()) {
                BlockDevice m0 = set.device("m0");
                for (int i = 1; i <= 4; i++) {
                    byte[] data = new byte[4096 * i];
                    java.util.Arrays.fill(data, (byte) i);
                    long at = 2048L * i;
                    m0.write(at, ByteBuffer.wrap(data), false);
                    System.arraycopy(data, 0, image, (int) at, data.length);
                    images[i] = image.clone();
                    if (i % 2 == 0) {
                        assertEquals(i, set.cut(dev.rewind.increments.transaction.CutReason.DEMAND).orElseThrow().lastSeq());
                    }
                }
                assertEquals(2, set.transactions().size());
                for (int s = 0; s <= 4; s++) {
                    ByteBuffer got = ByteBuffer.allocate(256 << 10);
                    set.readAt(s, 0, 0, got);
                    assertArrayEquals(images[s], got.array(), "member m0 at seq " + s);
                }
                set.verify();
                set.restoreInPlace(1, ProgressListener.NONE);
                ByteBuffer got = ByteBuffer.allocate(256 << 10);
                m0.read(0, got);
                assertArrayEquals(images[1], got.array(), "restored in place to seq 1");
            }
            try (CapturedSet set = t.open()) {
                ByteBuffer got = ByteBuffer.allocate(256 << 10);
                set.readAt(3, 0, 0, got);
                assertArrayEquals(images[3], got.array(), "seq 3 after reopening");
            }
        }
    }
}
