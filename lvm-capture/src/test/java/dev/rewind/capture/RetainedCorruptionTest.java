package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flipped byte in what a retention pass wrote (Invariant 5): in a merged backward increment,
 * and in a merged delta map built from the history after the pass. {@code verify} names the
 * file, and a read of the past that needs it is refused with the same error instead of
 * returning wrong bytes.
 */
class RetainedCorruptionTest {
    /** Stored bytes of the first chunk: after the 80-byte file header and the 32-byte chunk header ({@code IncrementFile}). */
    private static final int FIRST_CHUNK_DATA_AT = 80 + 32;
    /** The first extent of a span map, after its 48-byte header ({@code SpanMap}). */
    private static final int FIRST_SPAN_EXTENT_AT = 48;
    private static final RetentionPolicy POLICY = RetentionPolicy.parse("every-write:10m,transactions:15m,hourly:3h");

    @TempDir
    Path tmp;

    private final MovingClock clock = MovingClock.at(Instant.parse("2031-06-01T00:00:00Z"));
    private final CaptureOptions options = RetainCrashChild.options(clock, POLICY, 2, IncrementCodec.NONE);
    private final List<ImageModel> images = new ArrayList<>();

    @Test
    void flippedByteInAMergedBackwardIncrementIsNamedAndRefusedByAReadThatNeedsIt() throws IOException {
        try (TestSet t = TestSet.create(tmp, "s", 512 << 10, 256 << 10)) {
            Transaction merged = historyWithAMergedTransaction(t);
            Path bwd = t.volumes.findSet("s").secondaryDir().resolve("increments")
                    .resolve(String.format("%016d.bwd", merged.id()));
            flipByte(bwd, FIRST_CHUNK_DATA_AT + 100);
            long before = merged.firstSeq() - 1; // every byte the merged run changed is read from its backward increment

            try (CapturedSet set = t.open(options)) {
                assertEquals(merged, set.history().transactions().byId(merged.id()).orElseThrow(), "the merged transaction is on hand");
                assertEquals(bwd, assertThrows(CorruptDataException.class, set::verify, "verify finds the flipped byte").file());
                for (int m = 0; m < 2; m++) {
                    int member = m;
                    ByteBuffer whole = ByteBuffer.allocate((int) set.devices().get(m).sizeBytes());
                    CorruptDataException e = assertThrows(CorruptDataException.class, () -> set.readAt(before, member, 0, whole),
                            "a read of member " + m + " at seq " + before + " needs " + bwd);
                    assertEquals(bwd, e.file(), e.getMessage());
                    assertTrue(e.getMessage().contains(bwd.toString()), "the message names the file: " + e.getMessage());
                }
                HorizonTest.readWhole(set, images.get((int) merged.lastSeq()), merged.lastSeq(),
                        "the merged transaction's end, which needs only later increments");
            }
        }
    }

    @Test
    void flippedByteInASpanMapBuiltAfterAPassIsNamedAndRefusedByAReadThatNeedsIt() throws IOException {
        try (TestSet t = TestSet.create(tmp, "s", 512 << 10, 256 << 10)) {
            historyWithAMergedTransaction(t);
            Path maps = t.volumes.findSet("s").secondaryDir().resolve("maps");
            for (Path p : RetainedHistory.list(maps)) {
                Files.delete(p);
            }
            long oldest;
            try (CapturedSet set = t.open(options)) {
                oldest = HorizonTest.boundaries(set).get(0);
                HorizonTest.readWhole(set, images.get((int) oldest), oldest, "the oldest boundary, which builds the span maps it needs");
            }
            // the widest span the read built is one it reads directly, not only one a wider span was built from
            Path span = RetainedHistory.list(maps).stream().max(Comparator.comparingLong(RetainedCorruptionTest::width)).orElseThrow(
                    () -> new AssertionError("a read of the oldest boundary builds span maps"));
            assertTrue(width(span) > 1, "the read crosses a span of more than one transaction: " + span.getFileName());
            assertTrue(Files.size(span) > FIRST_SPAN_EXTENT_AT + 4, span.getFileName() + " holds extents");
            flipByte(span, FIRST_SPAN_EXTENT_AT + 10);

            try (CapturedSet set = t.open(options)) {
                assertEquals(span, assertThrows(CorruptDataException.class, set::verify, "verify finds the flipped byte").file());
                for (int m = 0; m < 2; m++) {
                    int member = m;
                    ByteBuffer whole = ByteBuffer.allocate((int) set.devices().get(m).sizeBytes());
                    CorruptDataException e = assertThrows(CorruptDataException.class, () -> set.readAt(oldest, member, 0, whole),
                            "a read of member " + m + " at seq " + oldest + " needs " + span);
                    assertEquals(span, e.file(), e.getMessage());
                }
            }
        }
    }

    /**
     * Writes and cuts every 5 to 15 simulated minutes, with a retention pass after each cut,
     * until a pass has merged a run and the merged transaction is not the newest; returns it.
     */
    private Transaction historyWithAMergedTransaction(TestSet t) throws IOException {
        Random r = new Random(23);
        try (CapturedSet set = t.open(options)) {
            set.retentionPolicy(POLICY);
            images.add(ImageModel.zeros(set.devices().stream().mapToLong(BlockDevice::sizeBytes).toArray()));
            for (int step = 1; step < 200; step++) {
                clock.advance(Duration.ofMinutes(5 + r.nextInt(11)));
                for (int i = 0, n = 2 + r.nextInt(5); i < n; i++) {
                    int m = r.nextInt(2);
                    BlockDevice d = set.devices().get(m);
                    byte[] data = new byte[4096 + r.nextInt(64 << 10)];
                    r.nextBytes(data);
                    long offset = (long) (r.nextDouble() * (d.sizeBytes() - data.length + 1));
                    assertEquals(images.size(), d.write(offset, ByteBuffer.wrap(data), false), "writes take consecutive seqs");
                    images.add(images.get(images.size() - 1).write(m, offset, data));
                }
                set.cut(CutReason.DEMAND).orElseThrow();
                Retention.Result result = set.retain(set.planRetention());
                List<Transaction> txs = set.transactions();
                if (result.merged() > 0 && step > 10) {
                    for (Transaction tx : txs.subList(0, txs.size() - 1)) {
                        if (tx.merged() > 1 && Files.size(set.history().increments().path(tx.id(), IncrementDirection.BACKWARD))
                                > FIRST_CHUNK_DATA_AT + 4096) {
                            return tx;
                        }
                    }
                }
            }
        }
        throw new AssertionError("no pass merged a run in 200 steps");
    }

    /** How many transaction ids a span map's name covers. */
    private static long width(Path span) {
        String name = span.getFileName().toString();
        return Long.parseLong(name.substring(17, 33)) - Long.parseLong(name.substring(0, 16)) + 1;
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
