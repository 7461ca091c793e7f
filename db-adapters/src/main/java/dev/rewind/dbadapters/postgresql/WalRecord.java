package dev.rewind.dbadapters.postgresql;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of {@code pg_waldump} output, the parts {@code db find} reads: the resource
 * manager ({@code Heap}, {@code Storage}, {@code Transaction}, ...), the transaction id (0
 * for none), the record's LSN and its description, with the block references pg_waldump
 * appends to it ({@code blkref #0: rel 1663/5/16396 blk 0}).
 *
 * <pre>
 * rmgr: Transaction len (rec/tot):    469/   469, tx:        726, lsn: 0/01526CD8, prev 0/01526CA0, desc: COMMIT 2026-11-26 05:11:20.280404 UTC; rels: base/5/16384; ...
 * </pre>
 */
record WalRecord(String rmgr, long xid, Lsn lsn, String desc) {
    private static final Pattern LINE = Pattern.compile(
            "rmgr: (\\S+)\\s+len \\(rec/tot\\):\\s*\\d+/\\s*\\d+, tx:\\s*(\\d+), lsn: ([0-9A-F]+/[0-9A-F]+), prev [0-9A-F]+/[0-9A-F]+, desc: (.*)");
    private static final Pattern BLOCK_REF = Pattern.compile("blkref #\\d+: rel (\\d+)/(\\d+)/(\\d+)(?: fork (\\w+))? blk (\\d+)");

    /** A block a record touches: tablespace, database and relation file node, and block number. */
    record BlockRef(long tablespace, long database, long fileNode, String fork, long block) {
        /** The relation file as {@code database/fileNode}, the way {@link WalTransactions#fileKey} names a path. */
        String fileKey() {
            return database + "/" + fileNode;
        }
    }

    /** The record on {@code line}; empty for lines that are no record (pg_waldump's own messages). */
    static Optional<WalRecord> parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new WalRecord(m.group(1), Long.parseLong(m.group(2)), Lsn.parse(m.group(3)), m.group(4).strip()));
    }

    /** Whether the description starts with {@code operation} as a word ({@code DELETE}, {@code TRUNCATE}, {@code COMMIT}). */
    boolean is(String manager, String operation) {
        return rmgr.equals(manager) && (desc.equals(operation) || desc.startsWith(operation + " ") || desc.startsWith(operation + ";"));
    }

    /** What a Heap record did to one row, if it changed one: an UPDATE (also HOT_UPDATE) or a DELETE. */
    enum RowChange { UPDATE, DELETE }

    /**
     * The row change this record is ({@code +INIT}: the new row version starts a new page),
     * with the relation file it changed (the first block
     * reference: an UPDATE that moves the row to another page names the new page first, in
     * the same relation); empty for any other record.
     */
    Optional<Map.Entry<RowChange, BlockRef>> rowChange() {
        RowChange change;
        if (is("Heap", "UPDATE") || is("Heap", "HOT_UPDATE") || is("Heap", "UPDATE+INIT") || is("Heap", "HOT_UPDATE+INIT")) {
            change = RowChange.UPDATE;
        } else if (is("Heap", "DELETE")) {
            change = RowChange.DELETE;
        } else {
            return Optional.empty();
        }
        List<BlockRef> refs = blockRefs();
        return refs.isEmpty() ? Optional.empty() : Optional.of(Map.entry(change, refs.get(0)));
    }

    List<BlockRef> blockRefs() {
        List<BlockRef> refs = new ArrayList<>();
        Matcher m = BLOCK_REF.matcher(desc);
        while (m.find()) {
            refs.add(new BlockRef(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                    m.group(4) == null ? "main" : m.group(4), Long.parseLong(m.group(5))));
        }
        return refs;
    }
}
