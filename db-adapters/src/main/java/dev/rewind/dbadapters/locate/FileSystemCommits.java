package dev.rewind.dbadapters.locate;

import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.journal.RecordType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.OptionalLong;

/**
 * Finds where an ext3/ext4 file system made a change durable: the write of its journal's
 * next commit block (jbd2). Bytes appended to a file are part of it only once the new file
 * size is committed: a crash image that has the bytes but not the commit shows the file
 * shorter, without them. A jbd2 block starts with the magic {@code 0xC03B3998} and its type
 * (big-endian), 2 for a commit block; file system blocks are at least 1 KiB and aligned, so
 * each 1 KiB of a write is checked for that header.
 */
final class FileSystemCommits {
    private static final int JBD2_MAGIC = 0xC03B3998;
    private static final int COMMIT_BLOCK = 2;
    private static final int MIN_BLOCK_BYTES = 1024;
    /** Writes longer than this are file data, not journal blocks written one transaction at a time. */
    private static final int MAX_CHECKED_BYTES = 1 << 20;

    private FileSystemCommits() {
    }

    /** The first seq in {@code afterSeq+1..toSeq} of the lineage that writes a jbd2 commit block on the member. */
    static OptionalLong firstCommitAfter(CapturedSet set, int memberIndex, long afterSeq, long toSeq, Lineage lineage) throws IOException {
        long to = Math.min(toSeq, set.lastSeq());
        for (long seq = afterSeq + 1; seq <= to; seq++) {
            if (!lineage.contains(seq)) {
                continue;
            }
            JournalRecord r = set.journalRecord(seq);
            if (r.type() != RecordType.WRITE || r.memberIndex() != memberIndex || r.lengthBytes() > MAX_CHECKED_BYTES
                    || r.offsetBytes() % MIN_BLOCK_BYTES != 0) {
                continue;
            }
            ByteBuffer data = ByteBuffer.allocate(r.lengthBytes());
            set.readAt(seq, memberIndex, r.offsetBytes(), data);
            for (int at = 0; at + 8 <= r.lengthBytes(); at += MIN_BLOCK_BYTES) {
                if (data.getInt(at) == JBD2_MAGIC && data.getInt(at + 4) == COMMIT_BLOCK) {
                    return OptionalLong.of(seq);
                }
            }
        }
        return OptionalLong.empty();
    }
}
