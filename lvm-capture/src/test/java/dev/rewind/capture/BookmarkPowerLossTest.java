package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.testfixtures.fs.PowerLossDisk;
import dev.rewind.testfixtures.fs.PowerLossFileSystemProvider;
import dev.rewind.testfixtures.model.ImageModel;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A bookmark taken while a client writes, then the power cut right after it was acknowledged
 * (the data dir, the secondary and the PV on the power-loss file system; the writes that came
 * after it never flushed): after the restart the bookmark is either gone, or its seq holds
 * exactly the data it held when it was taken, and that seq is no later than what the set
 * recovered to. A bookmark that named a seq the journal had not yet forced would point past the
 * recovered history, or at a seq later given to another write.
 *
 * <p>Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=100}.
 */
class BookmarkPowerLossTest {
    private static final long KIB = 1024;

    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.range(0x2210_0001L, 8);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void aBookmarkTakenWhileAClientWritesHoldsItsDataAfterAPowerCutOrIsGone(long seed) throws Exception {
        Random r = new Random(seed);
        Path root = Files.createDirectory(tmp.resolve("disk"));
        try (PowerLossDisk disk = PowerLossFileSystemProvider.installed().track(root)) {
            long[] sizes = {256 * KIB, 128 * KIB};
            TestSet t = TestSet.createDurably(root, "s", sizes);
            ImageModel start = ImageModel.zeros(sizes);
            for (int round = 1; round <= 3; round++) {
                String context = Seeds.describe(seed) + ", round " + round;
                CapturedSet set = t.open();
                // the model of this round: the image at each seq from the one recovered to
                List<ImageModel> images = new CopyOnWriteArrayList<>(Collections.nCopies((int) set.lastSeq() + 1, (ImageModel) null));
                images.set((int) set.lastSeq(), start);
                Writer writer = new Writer(set, images, new Random(r.nextLong()));
                writer.start();
                int wanted = images.size() + 1 + r.nextInt(40);
                while (images.size() < wanted && writer.isAlive()) {
                    Thread.onSpinWait();
                }
                String name = "b" + round;
                long at = set.bookmarkPoint(OptionalLong.empty());
                t.catalog.insertBookmark(new BookmarkRecord("s", name, at, 0, false, null));
                writer.stopAndJoin();
                ImageModel held = images.get((int) at);
                disk.powerCut(r, PowerLossDisk.Survival.SOME_PAGES);
                CapturePowerLossTest.closeDead(set);
                t.catalog.close();
                disk.restart();
                t = TestSet.attach(root, "s");
                set = t.open();
                try {
                    Optional<BookmarkRecord> kept = t.catalog.findBookmark("s", name);
                    if (kept.isPresent()) {
                        assertTrue(kept.get().seq() <= set.lastSeq(), context + ": bookmark " + name + " at seq " + at
                                + " is within the recovered history (seq " + set.lastSeq() + ")");
                        for (int m = 0; m < sizes.length; m++) {
                            ByteBuffer buf = ByteBuffer.allocate((int) sizes[m]);
                            set.readAt(at, m, 0, buf);
                            ImageModel.assertSameBytes(context + ": member " + m + " at bookmark " + name + " (seq " + at + ")",
                                    held.bytes(m), buf.array());
                        }
                    }
                    ImageModel recovered = images.get((int) set.lastSeq());
                    recovered.assertPrimaryEquals(set, context + ": the primary at the recovered seq " + set.lastSeq());
                    start = recovered;
                } finally {
                    set.close();
                }
            }
            t.close();
        }
    }

    /** A client writing as fast as it can, one write at a time, recording the image at each seq it gets. */
    private static final class Writer extends Thread {
        private final CapturedSet set;
        private final List<ImageModel> images;
        private final Random r;
        private volatile boolean stop;
        private volatile Throwable failed;

        Writer(CapturedSet set, List<ImageModel> images, Random r) {
            super("bookmark-power-loss-writer");
            this.set = set;
            this.images = images;
            this.r = r;
        }

        @Override
        public void run() {
            try {
                for (int i = 0; i < 10_000 && !stop; i++) {
                    int m = r.nextInt(set.devices().size());
                    BlockDevice d = set.devices().get(m);
                    byte[] data = new byte[1 + r.nextInt(8192)];
                    r.nextBytes(data);
                    long offset = (long) (r.nextDouble() * (d.sizeBytes() - data.length + 1));
                    ImageModel next = images.get(images.size() - 1).write(m, offset, data);
                    long seq = d.write(offset, ByteBuffer.wrap(data), false);
                    if (seq != images.size()) {
                        throw new AssertionError("writes take consecutive seqs: got " + seq + " after " + (images.size() - 1));
                    }
                    images.add(next);
                }
            } catch (IOException | RuntimeException | AssertionError e) {
                failed = e;
            }
        }

        void stopAndJoin() throws Exception {
            stop = true;
            join();
            if (failed != null) {
                throw new AssertionError("the writer failed", failed);
            }
        }
    }
}
