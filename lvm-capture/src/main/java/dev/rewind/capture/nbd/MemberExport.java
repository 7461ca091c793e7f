package dev.rewind.capture.nbd;

import dev.rewind.capture.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A set member as it is now, writable: every write, trim and write-zeroes is captured by the set. */
final class MemberExport implements NbdExport {
    private final String name;
    private final String setName;
    private final BlockDevice device;

    MemberExport(String name, String setName, BlockDevice device) {
        this.name = name;
        this.setName = setName;
        this.device = device;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String setName() {
        return setName;
    }

    @Override
    public long sizeBytes() {
        return device.sizeBytes();
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        device.read(offsetBytes, dst);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException {
        device.write(offsetBytes, src, fua);
    }

    @Override
    public void trim(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
        device.trim(offsetBytes, lengthBytes, fua);
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
        device.writeZeroes(offsetBytes, lengthBytes, fua);
    }

    @Override
    public void flush() throws IOException {
        device.flush();
    }

    @Override
    public String description() {
        return "member " + device.name() + " of set " + setName + ", every write captured";
    }
}
