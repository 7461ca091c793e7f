package dev.rewind.dbadapters.locate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rewind.capture.CapturedSet;
import dev.rewind.testfixtures.set.TestSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileSystemCommits} finds the first jbd2 commit block written to a member after a
 * seq, in the set's lineage, and nothing else: not a descriptor block, not a commit on
 * another member, not one the window or the lineage leaves out.
 */
class FileSystemCommitsTest {
    @TempDir
    Path tmp;

    private static ByteBuffer jbd2Block(int type, int blockBytes) {
        ByteBuffer b = ByteBuffer.allocate(blockBytes);
        b.putInt(0, 0xC03B3998).putInt(4, type).putInt(8, 77);
        return b;
    }

    @Test
    void theFirstCommitBlockOnTheMemberAfterTheSeqIsFound() throws IOException {
        try (TestSet t = TestSet.create(tmp, "fs", 64 << 10, 64 << 10); CapturedSet set = t.open()) {
            long data = set.device("m0").write(4096, ByteBuffer.allocate(1024), false);            // the appended bytes
            set.device("m0").write(32768, jbd2Block(1, 2048), false);                               // descriptor
            set.device("m1").write(32768, jbd2Block(2, 1024), false);                               // a commit on the other member
            long commit = set.device("m0").write(35840, jbd2Block(2, 1024), false);                 // the commit
            long later = set.device("m0").write(36864, jbd2Block(2, 1024), false);                  // the next commit
            Lineage all = Lineage.of(List.of(), set.lastSeq());
            assertEquals(OptionalLong.of(commit), FileSystemCommits.firstCommitAfter(set, 0, data, set.lastSeq(), all));
            assertEquals(OptionalLong.of(later), FileSystemCommits.firstCommitAfter(set, 0, commit, set.lastSeq(), all));
            assertEquals(OptionalLong.empty(), FileSystemCommits.firstCommitAfter(set, 0, data, commit - 1, all));
            assertEquals(OptionalLong.empty(), FileSystemCommits.firstCommitAfter(set, 0, later, set.lastSeq(), all));
        }
    }

    @Test
    void aCommitBlockInsideALongerWriteAtAnyKibIsFound() throws IOException {
        try (TestSet t = TestSet.create(tmp, "fs", 64 << 10, 64 << 10); CapturedSet set = t.open()) {
            ByteBuffer three = ByteBuffer.allocate(3072);
            three.putInt(2048, 0xC03B3998).putInt(2052, 2);
            long seq = set.device("m0").write(8192, three, false);
            assertEquals(OptionalLong.of(seq), FileSystemCommits.firstCommitAfter(set, 0, 0, set.lastSeq(), Lineage.of(List.of(), seq)));
        }
    }
}
