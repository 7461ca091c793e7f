package dev.rewind.increments.restore;

import dev.rewind.increments.deltamap.DeltaMap;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.io.DurableFiles;
import dev.rewind.volumeset.io.StableFileChannel;
import dev.rewind.volumeset.layout.PrimaryMember;
import dev.rewind.volumeset.layout.SetPrimaries;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A copy of a set at a past seq, one file per member ({@code <member>.img}): a sparse copy of
 * the primary as it is, then the blocks changed since the target put back from the history.
 * Everything put back is read and checked before the first file is created; existing files
 * are never overwritten, and a clone that fails leaves no file behind.
 */
public final class Clone {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private Clone() {
    }

    /**
     * @param headSeq the seq the primaries hold now (no write may come in while this runs
     *                without also being in {@code headSeq}: the caller holds writes or accepts a copy as of its own head)
     */
    public static List<Path> write(SetHistory history, SetPrimaries primaries, long targetSeq, long headSeq, Path dir,
                                   ProgressListener progress) throws IOException {
        history.checkRestorable(targetSeq);
        DurableFiles.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        for (PrimaryMember m : primaries.members()) {
            Path f = dir.resolve(m.name() + ".img");
            if (Files.exists(f)) {
                throw new RewindException(f + " already exists; clone into an empty directory");
            }
            files.add(f);
        }
        List<FileChannel> channels = new ArrayList<>();
        boolean done = false;
        try {
            DeltaMap changed = history.changedBetween(targetSeq, headSeq);
            history.reconstruct(targetSeq, changed.copy(), (m, o, l, d) -> { }); // read and check everything first
            for (int i = 0; i < primaries.members().size(); i++) {
                FileChannel c = StableFileChannel.open(files.get(i), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                channels.add(c);
                copySparse(primaries.member(i), c, progress);
            }
            history.reconstruct(targetSeq, changed, (member, offset, length, data) -> {
                FileChannel c = channels.get(member);
                ByteBuffer src = data == null ? ZEROS.duplicate().limit(length) : data.duplicate();
                long pos = offset;
                while (src.hasRemaining()) {
                    pos += c.write(src, pos);
                }
            });
            for (FileChannel c : channels) {
                c.force(true);
            }
            DurableFiles.forceDirectory(dir);
            done = true;
            return files;
        } finally {
            for (FileChannel c : channels) {
                c.close();
            }
            if (!done) {
                for (Path f : files) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private static void copySparse(PrimaryMember m, FileChannel out, ProgressListener progress) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        for (long pos = 0; pos < m.sizeBytes(); ) {
            int n = (int) Math.min(buf.capacity(), m.sizeBytes() - pos);
            buf.clear().limit(n);
            m.read(pos, buf);
            buf.flip();
            if (!ReplicaImage.isZero(buf)) {
                long p = pos;
                while (buf.hasRemaining()) {
                    p += out.write(buf, p);
                }
            }
            pos += n;
            progress.advanced(n);
        }
        if (out.size() < m.sizeBytes()) {
            out.write(ByteBuffer.allocate(1), m.sizeBytes() - 1);
        }
    }
}
