package dev.rewind.dbadapters.postgresql;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one committed transaction did, as its WAL records tell it: the COMMIT record's LSN and
 * time, the LSN of its first record ({@code firstLsn}, of it or of a subtransaction it
 * commits), the files it dropped at commit ({@code rels:}, paths such as
 * {@code base/5/16384}), the files it created ({@code Storage CREATE}), the relations it
 * truncated (Heap {@code TRUNCATE} records, written at {@code wal_level = logical} only), the
 * created files it wrote a page other than block 0 into (a rewrite fills them; TRUNCATE
 * writes at most an index's metapage), and the rows it updated and deleted by relation file
 * ({@code database/fileNode}, see {@link WalTransactions#fileKey}; counted only when asked).
 */
record WalCommit(long xid, Lsn lsn, Instant time, List<String> droppedFiles, List<String> createdFiles, List<Long> truncatedRelids,
        Set<String> createdFilesFilledBeyondBlockZero, Lsn firstLsn, Map<String, RowChanges> rowChanges) {

    /** The rows a transaction changed in one relation file: Heap UPDATE and HOT_UPDATE records, and DELETE records. */
    record RowChanges(long updated, long deleted) {
        RowChanges plus(RowChanges o) {
            return new RowChanges(updated + o.updated, deleted + o.deleted);
        }
    }

    WalCommit {
        droppedFiles = List.copyOf(droppedFiles);
        createdFiles = List.copyOf(createdFiles);
        truncatedRelids = List.copyOf(truncatedRelids);
        createdFilesFilledBeyondBlockZero = Set.copyOf(createdFilesFilledBeyondBlockZero);
        rowChanges = Map.copyOf(rowChanges);
    }

    /** Whether the transaction touched relation files at all. */
    boolean touchesFiles() {
        return !droppedFiles.isEmpty() || !createdFiles.isEmpty() || !truncatedRelids.isEmpty();
    }

    /** Whether it updated or deleted rows. */
    boolean changesRows() {
        return !rowChanges.isEmpty();
    }
}
