package dev.rewind.volumeset.layout;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;

/**
 * The primary copy of one set member: positional reads and writes that follow the
 * member's layout across its PVs. Callers check bounds; this class trusts them.
 * Thread-safe: positional {@link FileChannel} I/O only, on channels that interrupts cannot close
 * ({@link dev.rewind.volumeset.io.StableFileChannel}, opened by {@link SetPrimaries}).
 */
public final class PrimaryMember {
    private final MemberLayout layout;
    private final FileChannel[] channels;

    PrimaryMember(MemberLayout layout, FileChannel[] channelPerRun) {
        this.layout = layout;
        this.channels = channelPerRun;
    }

    public MemberLayout layout() {
        return layout;
    }

    public String name() {
        return layout.name();
    }

    public int index() {
        return layout.index();
    }

    public long sizeBytes() {
        return layout.sizeBytes();
    }

    /** Fills {@code dst} from member offset {@code offsetBytes}; reads past a sparse file's end as zeros. */
    public void read(long offsetBytes, ByteBuffer dst) throws IOException {
        List<MemberLayout.Run> runs = layout.runs();
        int i = layout.runIndexAt(offsetBytes);
        long pos = offsetBytes;
        int limit = dst.limit();
        try {
            while (dst.hasRemaining()) {
                MemberLayout.Run run = runs.get(i);
                long within = pos - run.memberOffsetBytes();
                int n = (int) Math.min(dst.remaining(), run.lengthBytes() - within);
                dst.limit(dst.position() + n);
                long pvPos = run.pvOffsetBytes() + within;
                while (dst.hasRemaining()) {
                    int r = channels[i].read(dst, pvPos);
                    if (r < 0) {
                        while (dst.hasRemaining()) {
                            dst.put((byte) 0);
                        }
                        break;
                    }
                    pvPos += r;
                }
                dst.limit(limit);
                pos += n;
                i++;
            }
        } finally {
            dst.limit(limit);
        }
    }

    /** Writes all of {@code src} at member offset {@code offsetBytes}. */
    public void write(long offsetBytes, ByteBuffer src) throws IOException {
        List<MemberLayout.Run> runs = layout.runs();
        int i = layout.runIndexAt(offsetBytes);
        long pos = offsetBytes;
        int limit = src.limit();
        try {
            while (src.hasRemaining()) {
                if (i >= runs.size()) {
                    throw new EOFException("write past the end of member " + layout.name());
                }
                MemberLayout.Run run = runs.get(i);
                long within = pos - run.memberOffsetBytes();
                int n = (int) Math.min(src.remaining(), run.lengthBytes() - within);
                src.limit(src.position() + n);
                long pvPos = run.pvOffsetBytes() + within;
                while (src.hasRemaining()) {
                    pvPos += channels[i].write(src, pvPos);
                }
                src.limit(limit);
                pos += n;
                i++;
            }
        } finally {
            src.limit(limit);
        }
    }

    /** Makes every write so far durable on the PVs this member uses. */
    public void force() throws IOException {
        FileChannel last = null;
        for (FileChannel c : channels) {
            if (c != last) {
                c.force(false);
                last = c;
            }
        }
    }
}
