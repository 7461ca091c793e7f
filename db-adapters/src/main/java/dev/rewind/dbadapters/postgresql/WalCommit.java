package dev.rewind.dbadapters.postgresql;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * What one committed transaction did to relation files, as its WAL records tell it: the
 * COMMIT record's LSN and time, the files it dropped at commit ({@code rels:}, paths such as
 * {@code base/5/16384}), the files it created ({@code Storage CREATE}), the relations it
 * truncated (Heap {@code TRUNCATE} records, written at {@code wal_level = logical} only), and
 * the created files it wrote a page other than block 0 into (a rewrite fills them; TRUNCATE
 * writes at most an index's metapage).
 */
record WalCommit(long xid, Lsn lsn, Instant time, List<String> droppedFiles, List<String> createdFiles, List<Long> truncatedRelids,
        Set<String> createdFilesFilledBeyondBlockZero) {

    WalCommit {
        droppedFiles = List.copyOf(droppedFiles);
        createdFiles = List.copyOf(createdFiles);
        truncatedRelids = List.copyOf(truncatedRelids);
        createdFilesFilledBeyondBlockZero = Set.copyOf(createdFilesFilledBeyondBlockZero);
    }

    /** Whether the transaction touched relation files at all (only such commits are kept). */
    boolean touchesFiles() {
        return !droppedFiles.isEmpty() || !createdFiles.isEmpty() || !truncatedRelids.isEmpty();
    }
}
