package dev.rewind.capture.nbd;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.sandbox.Sandbox;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A member of a sandbox, writable: reads come from the set's past where the sandbox has not
 * written, writes stay in the sandbox. Its connections are counted under
 * {@link Sandbox#clientKey}, so that dropping the sandbox can find them.
 */
final class SandboxExport implements NbdExport {
    private final String name;
    private final Sandbox sandbox;
    private final BlockDevice member;

    SandboxExport(String name, Sandbox sandbox, BlockDevice member) {
        this.name = name;
        this.sandbox = sandbox;
        this.member = member;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String setName() {
        return Sandbox.clientKey(sandbox.record().setName(), sandbox.record().name());
    }

    @Override
    public long sizeBytes() {
        return member.sizeBytes();
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        member.read(offsetBytes, dst);
    }

    @Override
    public void write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException {
        member.write(offsetBytes, src, fua);
    }

    @Override
    public void trim(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
        member.trim(offsetBytes, lengthBytes, fua);
    }

    @Override
    public void writeZeroes(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
        member.writeZeroes(offsetBytes, lengthBytes, fua);
    }

    @Override
    public void flush() throws IOException {
        member.flush();
    }

    @Override
    public String description() {
        return "member " + member.name() + " of set " + sandbox.record().setName() + " as it was at seq " + sandbox.record().seq()
                + ", in sandbox " + sandbox.record().name() + ": writable, writes kept apart from the set";
    }
}
