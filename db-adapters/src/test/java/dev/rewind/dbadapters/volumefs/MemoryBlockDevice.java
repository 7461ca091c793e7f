package dev.rewind.dbadapters.volumefs;

import dev.rewind.capture.BlockDevice;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** A block device in a byte array, for fast tests of the file layer; counts writes like seqs. */
final class MemoryBlockDevice implements BlockDevice {
    final byte[] bytes;
    private final String name;
    private long lastSeq;
    private int flushes;

    MemoryBlockDevice(String name, int sizeBytes) {
        this.name = name;
        this.bytes = new byte[sizeBytes];
    }

    long lastSeq() {
        return lastSeq;
    }

    int flushes() {
        return flushes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long sizeBytes() {
        return bytes.length;
    }

    @Override
    public synchronized void read(long offsetBytes, ByteBuffer dst) {
        checkRange(offsetBytes, dst.remaining());
        dst.put(bytes, (int) offsetBytes, dst.remaining());
    }

    @Override
    public synchronized long write(long offsetBytes, ByteBuffer src, boolean fua) {
        checkRange(offsetBytes, src.remaining());
        src.get(bytes, (int) offsetBytes, src.remaining());
        return ++lastSeq;
    }

    @Override
    public long trim(long offsetBytes, long lengthBytes, boolean fua) {
        return writeZeroes(offsetBytes, lengthBytes, fua);
    }

    @Override
    public synchronized long writeZeroes(long offsetBytes, long lengthBytes, boolean fua) {
        checkRange(offsetBytes, lengthBytes);
        Arrays.fill(bytes, (int) offsetBytes, (int) (offsetBytes + lengthBytes), (byte) 0);
        return ++lastSeq;
    }

    @Override
    public synchronized void flush() {
        flushes++;
    }

    private void checkRange(long offsetBytes, long lengthBytes) {
        if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > bytes.length) {
            throw new IllegalArgumentException("range " + offsetBytes + "+" + lengthBytes + " is outside " + name);
        }
    }
}
