package dev.rewind.cli.bench;

import dev.rewind.capture.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

/**
 * A synthetic database-like write load for the increments benchmark: 8 KiB pages, nine writes
 * in ten to a hot tenth of the data pages, each page half random bytes and half zeros (so it
 * compresses about 2:1, like a table page with free space), plus one 8 KiB append per
 * "second" to a write-ahead log area (the last eighth of the volume, wrapping). The same
 * seeded sequence of writes goes to every device given, in the same order, so two sets fed
 * by one workload hold the same writes at the same seqs.
 */
final class PageWorkload {
    static final int PAGE_BYTES = 8192;

    private final Random rnd;
    private final long dataPages;
    private final long hotPages;
    private final long walStartBytes;
    private final long walPages;
    private long walNext;
    private final byte[] fill = new byte[PAGE_BYTES];
    private final ByteBuffer page = ByteBuffer.allocateDirect(PAGE_BYTES);
    private long bytesWritten;
    private WriteObserver observer = (seq, offsetBytes) -> { };

    /** Told of every write: the seq the first device gave it and the byte offset it went to. */
    @FunctionalInterface
    interface WriteObserver {
        void written(long seq, long offsetBytes);
    }

    PageWorkload(long volumeBytes, long seed) {
        this.rnd = new Random(seed);
        this.walPages = volumeBytes / 8 / PAGE_BYTES;
        this.dataPages = volumeBytes / PAGE_BYTES - walPages;
        this.hotPages = Math.max(1, dataPages / 10);
        this.walStartBytes = dataPages * PAGE_BYTES;
    }

    /** One second of load: {@code pageWrites} page writes, one log append, then a flush of each device. */
    void second(List<BlockDevice> devices, int pageWrites) throws IOException {
        for (int i = 0; i < pageWrites; i++) {
            long p = rnd.nextInt(10) < 9 ? (long) (rnd.nextDouble() * hotPages) : (long) (rnd.nextDouble() * dataPages);
            write(devices, p * PAGE_BYTES);
        }
        write(devices, walStartBytes + (walNext++ % walPages) * PAGE_BYTES);
        for (BlockDevice d : devices) {
            d.flush();
        }
    }

    /** Writes every data page once (the database as loaded before the measured history). */
    void load(List<BlockDevice> devices) throws IOException {
        for (long p = 0; p < dataPages; p++) {
            write(devices, p * PAGE_BYTES);
        }
        for (BlockDevice d : devices) {
            d.flush();
        }
    }

    /** Tells {@code o} of every write from now on. */
    void observe(WriteObserver o) {
        this.observer = o;
    }

    long bytesWritten() {
        return bytesWritten;
    }

    private void write(List<BlockDevice> devices, long offsetBytes) throws IOException {
        rnd.nextBytes(fill);
        java.util.Arrays.fill(fill, PAGE_BYTES / 2, PAGE_BYTES, (byte) 0);
        page.clear();
        page.put(fill).flip();
        long seq = -1;
        for (BlockDevice d : devices) {
            long s = d.write(offsetBytes, page.duplicate(), false);
            seq = seq < 0 ? s : seq;
        }
        observer.written(seq, offsetBytes);
        bytesWritten += PAGE_BYTES;
    }
}
