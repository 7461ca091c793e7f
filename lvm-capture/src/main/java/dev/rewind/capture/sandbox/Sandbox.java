package dev.rewind.capture.sandbox;

import dev.rewind.capture.BlockDevice;
import dev.rewind.increments.restore.SetHistory;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One open sandbox: its members as writable block devices that read the past where they were
 * not written. Their writes go to the sandbox's overlays and return seq 0: nothing is captured.
 * Shared by every caller of {@link Sandboxes#open}; it stays open until dropped or until its
 * {@link Sandboxes} closes, so closing a handle releases nothing.
 */
public final class Sandbox implements AutoCloseable {
    /** The export name suffix of a sandbox's members: {@code <set>/<member>@sandbox:<name>}. */
    public static final String EXPORT_MARK = "sandbox:";

    private final SandboxRecord record;
    private final List<Member> members = new ArrayList<>();
    private volatile String closedBecause;

    Sandbox(SandboxRecord record, SetHistory.PastView past, List<String> memberNames, List<Long> memberSizes,
            List<SandboxOverlay> overlays) {
        this.record = record;
        for (int i = 0; i < memberNames.size(); i++) {
            members.add(new Member(i, memberNames.get(i), memberSizes.get(i), past, overlays.get(i)));
        }
    }

    /** The key NBD connections to the sandbox are counted and dropped by: {@code <set>@sandbox:<name>}. */
    public static String clientKey(String setName, String name) {
        return setName + "@" + EXPORT_MARK + name;
    }

    public SandboxRecord record() {
        return record;
    }

    public List<BlockDevice> members() {
        return List.copyOf(members);
    }

    /** The member of that name, or a {@link RewindException}. */
    public BlockDevice member(String memberName) {
        for (Member m : members) {
            if (m.name.equals(memberName)) {
                return m;
            }
        }
        throw new RewindException("set " + record.setName() + " has no member " + memberName);
    }

    /** The bytes the sandbox has written, over all members. */
    public long overlayBytes() {
        long total = 0;
        for (Member m : members) {
            total += m.overlay.writtenBytes();
        }
        return total;
    }

    /** Makes every write so far durable, on every member. */
    void flush() throws IOException {
        for (Member m : members) {
            m.overlay.flush();
        }
    }

    /** Closes the overlays; every later request fails with {@code because}. */
    void shut(String because) throws IOException {
        closedBecause = because;
        IOException first = null;
        for (Member m : members) {
            try {
                m.overlay.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Releases nothing: the sandbox stays open for its other users until dropped. */
    @Override
    public void close() {
    }

    private final class Member implements BlockDevice {
        private final int index;
        private final String name;
        private final long sizeBytes;
        private final SetHistory.PastView past;
        private final SandboxOverlay overlay;

        Member(int index, String name, long sizeBytes, SetHistory.PastView past, SandboxOverlay overlay) {
            this.index = index;
            this.name = name;
            this.sizeBytes = sizeBytes;
            this.past = past;
            this.overlay = overlay;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long sizeBytes() {
            return sizeBytes;
        }

        @Override
        public void read(long offsetBytes, ByteBuffer dst) throws IOException {
            check(offsetBytes, dst.remaining());
            int base = dst.position();
            for (SandboxOverlay.Piece p : overlay.pieces(offsetBytes, dst.remaining())) {
                int at = base + (int) (p.startBytes() - offsetBytes);
                ByteBuffer slice = dst.duplicate().limit(at + (int) (p.endBytes() - p.startBytes())).position(at);
                switch (p.source()) {
                    case PAST -> past.read(index, p.startBytes(), slice);
                    case DATA -> overlay.readData(p.startBytes(), slice);
                    case ZERO -> {
                        while (slice.hasRemaining()) {
                            slice.put((byte) 0);
                        }
                    }
                }
            }
            dst.position(dst.limit());
            checkOpen(); // a drop during the read may have cut it short
        }

        @Override
        public long write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException {
            check(offsetBytes, src.remaining());
            overlay.write(offsetBytes, src);
            if (fua) {
                overlay.flush();
            }
            return 0;
        }

        @Override
        public long trim(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
            return writeZeroes(offsetBytes, lengthBytes, fua);
        }

        @Override
        public long writeZeroes(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
            check(offsetBytes, lengthBytes);
            if (lengthBytes > 0) {
                overlay.zero(offsetBytes, lengthBytes);
            }
            if (fua) {
                overlay.flush();
            }
            return 0;
        }

        @Override
        public void flush() throws IOException {
            checkOpen();
            overlay.flush();
        }

        private void check(long offsetBytes, long lengthBytes) throws IOException {
            checkOpen();
            if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > sizeBytes) {
                throw new IllegalArgumentException("request " + offsetBytes + "+" + lengthBytes + " is outside member " + name
                        + " (" + sizeBytes + " bytes)");
            }
        }

        private void checkOpen() throws IOException {
            String because = closedBecause;
            if (because != null) {
                throw new IOException(because);
            }
        }
    }
}
