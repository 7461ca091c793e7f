package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flipped byte inside a chunk of a backward increment (Invariant 5): {@code verify} names the
 * file and an offset; a restore in place, a clone and a past read that need the increment are
 * refused with the same kind of error, and the primary is left as it was, on both restore paths
 * (staged in memory, and verify pass then write pass); a restore that does not need it works.
 */
class IncrementCorruptionTest {
    /** Stored bytes of the first chunk: after the 80-byte file header and the 32-byte chunk header ({@code IncrementFile}). */
    private static final int FIRST_CHUNK_DATA_AT = 80 + 32;

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "staged restore up to {0} bytes")
    @ValueSource(longs = {1, 256L << 20})
    void flippedByteInBackwardIncrementIsNamedAndRefusedWhereNeeded(long stagedRestoreBytes) throws IOException {
        Random r = new Random(12);
        CaptureOptions options = new CaptureOptions(1L << 20, Clock.systemUTC(), Duration.ZERO).withCodec(IncrementCodec.NONE);
        List<ImageModel> images = new ArrayList<>();
        Transaction corrupted;
        try (TestSet t = TestSet.create(tmp, "s", 1 << 20, 512 << 10)) {
            try (CapturedSet set = t.open(options)) {
                images.add(ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray()));
                // transaction 1 fills [0, 256K) of m0; transaction 2 overwrites [64K, 192K), so its backward increment holds data
                write(set, images, r, 0, 0, 128 << 10);
                write(set, images, r, 0, 128 << 10, 128 << 10);
                write(set, images, r, 1, 4096, 10_000);
                set.cut(CutReason.DEMAND).orElseThrow();
                write(set, images, r, 0, 64 << 10, 64 << 10);
                write(set, images, r, 0, 128 << 10, 64 << 10);
                corrupted = set.cut(CutReason.DEMAND).orElseThrow();
                write(set, images, r, 1, 100_000, 50_000);
                write(set, images, r, 0, 300_000, 20_000);
                set.cut(CutReason.DEMAND).orElseThrow();
                write(set, images, r, 1, 200_000, 30_000);
            }
            Path bwd = tmp.resolve("secondary").resolve("increments").resolve(String.format("%016d.bwd", corrupted.id()));
            flipByte(bwd, FIRST_CHUNK_DATA_AT + 1000);
            long head = images.size() - 1;
            long beforeCorrupted = corrupted.firstSeq() - 1;

            try (CapturedSet set = t.open(options)) {
                set.stagedRestoreBytes(stagedRestoreBytes);
                CorruptDataException verify = assertThrows(CorruptDataException.class, set::verify, "verify finds the flipped byte");
                assertNamesFileAndOffset(verify, bwd);

                byte[][] before = JournalCorruptionTest.readPrimaries(set);
                for (long target : new long[] {beforeCorrupted}) {
                    CorruptDataException refused = assertThrows(CorruptDataException.class,
                            () -> set.restoreInPlace(target, ProgressListener.NONE), "a restore to seq " + target + " needs " + bwd);
                    assertNamesFileAndOffset(refused, bwd);
                    assertEquals(head, set.lastSeq(), "a refused restore journals nothing");
                    byte[][] after = JournalCorruptionTest.readPrimaries(set);
                    for (int m = 0; m < before.length; m++) {
                        assertArrayEquals(before[m], after[m], "a refused restore to seq " + target + " leaves member " + m + " unchanged");
                    }
                    assertFalse(set.isRestoreUnfinished(), "a refused restore records no intent");
                }
                assertNamesFileAndOffset(assertThrows(CorruptDataException.class,
                        () -> set.readAt(beforeCorrupted, 0, 0, ByteBuffer.allocate(256 << 10)), "a past read through it"), bwd);
                assertNamesFileAndOffset(assertThrows(CorruptDataException.class,
                        () -> set.cloneTo(beforeCorrupted, tmp.resolve("clone"), ProgressListener.NONE), "a clone through it"), bwd);

                // the boundary of the corrupted transaction and later seqs need only later increments and the journal
                for (long target : new long[] {corrupted.lastSeq(), corrupted.lastSeq() + 1}) {
                    RestoreResult res = set.restoreInPlace(target, ProgressListener.NONE);
                    assertTrue(res.changedAnything(), "the restore to seq " + target + " rewrote something");
                    images.get((int) target).assertPrimaryEquals(set, "restore in place to seq " + target + " past the corrupted increment");
                }
            }
        }
    }

    private static void write(CapturedSet set, List<ImageModel> images, Random r, int member, long offset, int length) throws IOException {
        byte[] data = new byte[length];
        r.nextBytes(data);
        long seq = set.devices().get(member).write(offset, ByteBuffer.wrap(data), false);
        assertEquals(images.size(), seq, "writes take consecutive seqs");
        images.add(images.get(images.size() - 1).write(member, offset, data));
    }

    private static void assertNamesFileAndOffset(CorruptDataException e, Path file) {
        assertEquals(file, e.file(), "the error names the corrupted increment: " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("at offset " + e.offsetBytes()),
                "the message names file and offset: " + e.getMessage());
        assertTrue(e.offsetBytes() >= 80 && e.offsetBytes() <= FIRST_CHUNK_DATA_AT + 1000, "the offset is the chunk's: " + e.getMessage());
    }

    private static void flipByte(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            assertTrue(position < ch.size(), file + " is long enough to hold byte " + position);
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) (b.get(0) ^ 0x5A)).rewind();
            ch.write(b, position);
        }
    }
}
