package dev.rewind.capture;

import dev.rewind.testfixtures.model.ImageModel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A seeded random workload of writes, trims, write-zeroes, FUA, flushes and checkpoints on a
 * captured set, with the model image at every seq and the newest seq acknowledged as durable
 * (by a flush or FUA that returned). After a crash, {@link #checkRecovered} holds the reopened
 * set to the block-device contract: every durable write is there, and the set is exactly the
 * model at the seq it recovered to.
 */
final class ModelledWorkload {
    private final Random r;
    private final List<ImageModel> images = new ArrayList<>();
    private long firstSeq;
    private long durableSeq;

    /** Starts from {@code image} at seq {@code seq}, all of it durable. */
    ModelledWorkload(Random r, ImageModel image, long seq) {
        this.r = r;
        this.images.add(image);
        this.firstSeq = seq;
        this.durableSeq = seq;
    }

    long headSeq() {
        return firstSeq + images.size() - 1;
    }

    long durableSeq() {
        return durableSeq;
    }

    ImageModel at(long seq) {
        return images.get((int) (seq - firstSeq));
    }

    ImageModel head() {
        return images.get(images.size() - 1);
    }

    /** The set was found at {@code seq}: history after it is gone. */
    void recoveredAt(long seq) {
        while (headSeq() > seq) {
            images.remove(images.size() - 1);
        }
        durableSeq = seq;
    }

    /** Records a write whose seq the caller learned some other way (e.g. it failed after reaching the journal). */
    void appended(long seq, ImageModel image) {
        assertEquals(headSeq() + 1, seq, "seqs are consecutive");
        images.add(image);
    }

    /**
     * The request that failed had reached the journal as {@code seq}: it may or may not
     * survive, and the caller was not told it did. The model takes it (it is known from the
     * last request); recovery may end before it.
     */
    void appendedUnknown(long seq) {
        appended(seq, pending);
    }

    private ImageModel pending;

    /** One random operation of the workload. */
    void step(CapturedSet set) throws IOException {
        int op = r.nextInt(100);
        if (op < 12) {
            set.flush();
            durableSeq = headSeq();
            return;
        }
        if (op < 15) {
            set.checkpoint();
            return;
        }
        int m = r.nextInt(head().memberCount());
        BlockDevice d = set.devices().get(m);
        long size = d.sizeBytes();
        int length = 1 + r.nextInt(r.nextBoolean() ? 4096 : 65536);
        long offset = r.nextInt(4) == 0 ? (long) r.nextInt((int) (size / 4096)) * 4096 : (long) r.nextInt((int) (size - length));
        length = (int) Math.min(length, size - offset);
        boolean fua = r.nextInt(10) == 0;
        long seq;
        ImageModel next;
        if (op < 90) {
            byte[] data = new byte[length];
            r.nextBytes(data);
            next = head().write(m, offset, data);
            pending = next;
            seq = d.write(offset, ByteBuffer.wrap(data), fua);
        } else {
            next = head().zero(m, offset, length);
            pending = next;
            seq = op < 95 ? d.trim(offset, length, fua) : d.writeZeroes(offset, length, fua);
        }
        appended(seq, next);
        if (fua) {
            durableSeq = seq;
        }
    }

    /**
     * Holds a set reopened after a crash to the contract: it recovered to a seq no older than
     * the newest durable one and no newer than the newest written, its members are the model
     * at that seq, every record and replica chunk checks, and a random earlier seq reads back
     * exactly. Then history continues from there.
     */
    void checkRecovered(CapturedSet set, String context) throws IOException {
        long seq = set.lastSeq();
        assertTrue(seq >= durableSeq, context + ": recovered to seq " + seq + " but seq " + durableSeq + " was acknowledged as durable");
        assertTrue(seq <= headSeq(), context + ": recovered to seq " + seq + ", newer than the newest write " + headSeq());
        at(seq).assertPrimaryEquals(set, context + ", recovered to seq " + seq);
        set.verify();
        long past = Math.max(set.oldestSeq(), firstSeq) + (long) (r.nextDouble() * (seq - Math.max(set.oldestSeq(), firstSeq)));
        ImageModel image = at(past);
        for (int m = 0; m < image.memberCount(); m++) {
            ByteBuffer buf = ByteBuffer.allocate((int) image.size(m));
            set.readAt(past, m, 0, buf);
            ImageModel.assertSameBytes(context + ", member " + m + " read at seq " + past, image.bytes(m), buf.array());
        }
        recoveredAt(seq);
    }
}
