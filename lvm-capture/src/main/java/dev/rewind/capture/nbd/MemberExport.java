package dev.rewind.capture.nbd;

import dev.rewind.capture.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A writable block device as an export: a set member as it is now (every write, trim and
 * write-zeroes captured by the set), or a member in a sandbox (its writes kept in the sandbox;
 * its connections counted under {@link dev.rewind.capture.sandbox.Sandbox#clientKey}).
 */
final class MemberExport implements NbdExport {
    private final String name;
    private final String setName;
    private final BlockDevice device;
    private final String description;

    MemberExport(String name, String setName, BlockDevice device, String description) {
        this.name = name;
        this.setName = setName;
        this.device = device;
        this.description = description;
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
        return description;
    }
}
