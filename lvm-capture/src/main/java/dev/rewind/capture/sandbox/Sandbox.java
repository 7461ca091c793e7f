package dev.rewind.capture.sandbox;

import dev.rewind.capture.BlockDevice;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.util.List;

/**
 * One open sandbox: its members as writable block devices that read the past where they
 * were not written. Their writes return seq 0: nothing is captured.
 */
public final class Sandbox implements AutoCloseable {

    private Sandbox() {
    }

    /** The export name suffix of a sandbox's members: {@code <set>/<member>@sandbox:<name>}. */
    public static final String EXPORT_MARK = "sandbox:";

    /** The key NBD connections to the sandbox are counted and dropped by: {@code <set>@sandbox:<name>}. */
    public static String clientKey(String setName, String name) {
        return setName + "@" + EXPORT_MARK + name;
    }

    public SandboxRecord record() {
        throw new UnsupportedOperationException();
    }

    public List<BlockDevice> members() {
        throw new UnsupportedOperationException();
    }

    /** The member of that name, or a {@link dev.rewind.volumeset.RewindException}. */
    public BlockDevice member(String memberName) {
        throw new UnsupportedOperationException();
    }

    public long overlayBytes() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}
