package dev.rewind.dbadapters.postgresql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.RelationNameHistory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Transactions grouped from pg_waldump lines (as PostgreSQL 15 prints them) and matched to DROP TABLE and TRUNCATE. */
class WalStatementsTest {
    private static final String PREFIX = "rmgr: %-11s len (rec/tot):     42/    42, tx: %10d, lsn: %s, prev 0/01525A20, desc: %s";

    private static String line(String rmgr, long xid, String lsn, String desc) {
        return String.format(PREFIX, rmgr, xid, lsn, desc);
    }

    /** TRUNCATE t2 (a table with a primary key and a TOAST table) at wal_level = replica: files swapped, only index metapages written. */
    private static final List<String> TRUNCATE_REPLICA = List.of(
            line("Standby", 725, "0/015260D0", "LOCK xid 725 db 5 rel 16387 "),
            line("Storage", 725, "0/01526100", "CREATE base/5/16394"),
            line("Heap", 725, "0/01526130", "UPDATE off 6 xmax 725 flags 0x60 ; new off 8 xmax 0, blkref #0: rel 1663/5/1259 blk 0"),
            line("Storage", 725, "0/015262A0", "CREATE base/5/16395"),
            line("Storage", 725, "0/01526450", "CREATE base/5/16396"),
            line("XLOG", 725, "0/015265A8", "FPI , blkref #0: rel 1663/5/16396 blk 0 FPW"),
            line("Transaction", 725, "0/01526860", "COMMIT 2026-11-26 05:11:20.269601 UTC; rels: base/5/16391 base/5/16392 base/5/16390; "
                    + "inval msgs: catcache 55 relcache 16387"));

    /** DROP TABLE t1: catalog rows deleted, the table's file dropped at commit. */
    private static final List<String> DROP = List.of(
            line("Standby", 726, "0/015269D0", "LOCK xid 726 db 5 rel 16384 "),
            line("Heap", 726, "0/01526C68", "DELETE off 2 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/5/1259 blk 0"),
            line("Transaction", 726, "0/01526CD8", "COMMIT 2026-11-26 05:11:20.280404 UTC; rels: base/5/16384; dropped stats: 2/5/16384; "
                    + "inval msgs: catcache 80 relcache 16384 snapshot 2608"));

    /** TRUNCATE t3 in a savepoint at wal_level = logical: a Heap TRUNCATE in the subtransaction, committed by its parent. */
    private static final List<String> TRUNCATE_LOGICAL = List.of(
            line("Heap", 728, "0/0153D218", "INSERT off 2 flags 0x08, blkref #0: rel 1663/5/16398 blk 0"),
            line("Storage", 729, "0/0153D288", "CREATE base/5/16401"),
            line("Heap", 729, "0/0153D4C8", "TRUNCATE nrelids 1 relids 16398"),
            line("Transaction", 728, "0/0153D4F8", "COMMIT 2026-11-26 05:11:54.139162 UTC; rels: base/5/16398; subxacts: 729; "
                    + "inval msgs: catcache 55 catcache 54 relcache 16398"));

    /** VACUUM FULL of a table of two pages: new files filled past block 0, old ones dropped. */
    private static final List<String> REWRITE = List.of(
            line("Storage", 730, "0/0153D5D8", "CREATE base/5/16402"),
            line("XLOG", 730, "0/0153D600", "FPI , blkref #0: rel 1663/5/16402 blk 0 FPW"),
            line("XLOG", 730, "0/0153D700", "FPI , blkref #0: rel 1663/5/16402 blk 1 FPW"),
            line("Transaction", 730, "0/0154B140", "COMMIT 2026-11-26 05:11:54.182704 UTC; rels: base/5/16394; inval msgs: relcache 16387"));

    /** DROP TABLE t11 (later than t1's drop): its table file and its primary key's index file dropped. */
    private static final List<String> DROP_LATER = List.of(
            line("Heap", 733, "0/0154E000", "DELETE off 4 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/5/1259 blk 0"),
            line("Transaction", 733, "0/0154E100", "COMMIT 2026-11-26 05:11:57.000000 UTC; rels: base/5/16410 base/5/16413; "
                    + "inval msgs: catcache 80 relcache 16410"));

    /** A drop of a table created and dropped between two readings of the names. */
    private static final List<String> DROP_UNSEEN = List.of(
            line("Transaction", 734, "0/0154F100", "COMMIT 2026-11-26 05:11:58.000000 UTC; rels: base/5/16420; "
                    + "inval msgs: catcache 80 relcache 16420"));

    /**
     * The names the position sampler read: before both drops t1 and t11 (with its index); after
     * t1's drop, a table that took over its file node (what a later mapping says must not name
     * an earlier drop).
     */
    private static final RelationNameHistory SAMPLED = order -> {
        if (order > Lsn.parse("0/01526D00").value()) {
            return Optional.of(Map.of("base/5/16410", "public.t11", "base/5/16413", "public.t11", "base/5/16384", "public.reused"));
        }
        if (order > Lsn.parse("0/01500000").value()) {
            return Optional.of(Map.of("base/5/16384", "public.t1", "base/5/16410", "public.t11", "base/5/16413", "public.t11"));
        }
        return Optional.empty();
    };

    /** A DROP TABLE rolled back: nothing to find. */
    private static final List<String> ABORTED = List.of(
            line("Heap", 731, "0/0154C000", "DELETE off 3 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/5/1259 blk 0"),
            line("Transaction", 731, "0/0154C100", "ABORT 2026-11-26 05:11:55.000000 UTC"));

    /** Plain traffic: inserts and a commit that touches no relation file. */
    private static final List<String> TRAFFIC = List.of(
            line("Heap", 732, "0/0154D000", "INSERT off 5 flags 0x00, blkref #0: rel 1663/5/16398 blk 0"),
            line("Transaction", 732, "0/0154D100", "COMMIT 2026-11-26 05:11:56.000000 UTC"),
            "pg_waldump: first record is after 0/1000000, at 0/1000028, skipping over 40 bytes");

    private static final WalStatements.RelationNames CATALOG = new WalStatements.RelationNames() {
        @Override
        public Map<Long, String> ofRelids(List<Long> relids) {
            return relids.contains(16398L) ? Map.of(16398L, "public.t3") : Map.of();
        }

        @Override
        public Optional<String> ofFile(String path) {
            return path.equals("base/5/16394") ? Optional.of("public.t2") : Optional.empty();
        }
    };

    private static List<WalCommit> commits(List<List<String>> groups) {
        List<WalCommit> commits = new ArrayList<>();
        WalTransactions transactions = new WalTransactions(commits::add);
        groups.forEach(g -> g.forEach(l -> WalRecord.parse(l).ifPresent(transactions)));
        return commits;
    }

    private static List<FoundStatement> find(String sql, boolean logical) {
        WalStatements statements = new WalStatements(StatementPattern.parse(sql), logical, CATALOG, RelationNameHistory.NONE);
        return commits(List.of(TRAFFIC, TRUNCATE_REPLICA, DROP, TRUNCATE_LOGICAL, REWRITE, ABORTED, TRAFFIC)).stream()
                .flatMap(c -> statements.match(c).stream()).toList();
    }

    @Test
    void onlyTransactionsThatTouchFilesAreKeptWithCommitTimeAndSubtransactionsFolded() {
        List<WalCommit> commits = commits(List.of(TRAFFIC, TRUNCATE_REPLICA, DROP, TRUNCATE_LOGICAL, REWRITE, ABORTED));
        assertEquals(List.of(725L, 726L, 728L, 730L), commits.stream().map(WalCommit::xid).toList());
        WalCommit logical = commits.get(2);
        assertEquals(List.of(16398L), logical.truncatedRelids());
        assertEquals(List.of("base/5/16401"), logical.createdFiles());
        assertEquals(Instant.parse("2026-11-26T05:11:54.139162Z"), logical.time());
        assertEquals(List.of("base/5/16394", "base/5/16395", "base/5/16396"), commits.get(0).createdFiles());
        assertTrue(commits.get(0).createdFilesFilledBeyondBlockZero().isEmpty());
        assertEquals(java.util.Set.of("base/5/16402"), commits.get(3).createdFilesFilledBeyondBlockZero());
    }

    @Test
    void dropTableIsTheCommitThatOnlyDropsFiles() {
        List<FoundStatement> found = find("DROP TABLE", false);
        assertEquals(1, found.size(), found.toString());
        FoundStatement drop = found.get(0);
        assertEquals("0/1526CD8", drop.position().text());
        assertEquals(Instant.parse("2026-11-26T05:11:20.280404Z"), drop.time());
        assertEquals(null, drop.gtid());
        assertTrue(drop.description().contains("drops base/5/16384"), drop.description());
        assertFalse(drop.unnamed(), "no name was asked for: every drop is a match");
    }

    private static List<FoundStatement> findDrops(String sql) {
        WalStatements statements = new WalStatements(StatementPattern.parse(sql), false, CATALOG, SAMPLED);
        return commits(List.of(TRAFFIC, DROP, DROP_LATER, DROP_UNSEEN)).stream().flatMap(c -> statements.match(c).stream()).toList();
    }

    @Test
    void aDroppedTableIsNamedByTheMappingInForceBeforeItsCommitNotByALaterDropOfAnother() {
        List<FoundStatement> t1 = findDrops("DROP TABLE t1").stream().filter(f -> !f.unnamed()).toList();
        assertEquals(List.of("0/1526CD8"), t1.stream().map(f -> f.position().text()).toList(), t1.toString());
        assertTrue(t1.get(0).description().startsWith("DROP TABLE public.t1: transaction 726"), t1.get(0).description());
        assertFalse(t1.get(0).unnamed());
        List<FoundStatement> t11 = findDrops("drop table public.t11;").stream().filter(f -> !f.unnamed()).toList();
        assertEquals(List.of("0/154E100"), t11.stream().map(f -> f.position().text()).toList(), t11.toString());
        assertTrue(t11.get(0).description().startsWith("DROP TABLE public.t11:"), t11.get(0).description());
    }

    @Test
    void aDropNoSampledNameCoversIsListedAsAnUnnamedRelationAndNeverAsTheTableAskedFor() {
        List<FoundStatement> asked = findDrops("DROP TABLE t1");
        List<FoundStatement> unnamed = findDrops("DROP TABLE t2");
        assertEquals(List.of("0/154F100"), unnamed.stream().map(f -> f.position().text()).toList(), unnamed.toString());
        assertTrue(unnamed.get(0).description().startsWith("DROP of unnamed relation 16420:"), unnamed.get(0).description());
        assertTrue(unnamed.get(0).unnamed(), "a table was asked for and this drop names none");
        assertTrue(asked.stream().noneMatch(f -> f.position().text().equals("0/154E100")), "t11 is not t1");
        List<FoundStatement> all = findDrops("DROP TABLE");
        assertEquals(3, all.size(), all.toString());
        assertTrue(all.stream().noneMatch(FoundStatement::unnamed), "without a name every drop is what was asked for");
    }

    @Test
    void truncateBelowLogicalIsAFileSwapOntoEmptyFilesNotARewrite() {
        List<FoundStatement> found = find("TRUNCATE", false);
        assertEquals(List.of("0/1526860", "0/153D4F8"), found.stream().map(f -> f.position().text()).toList());
        assertTrue(found.get(0).description().contains("public.t2"), found.get(0).description());
        assertTrue(found.get(1).description().startsWith("TRUNCATE public.t3"), found.get(1).description());
    }

    @Test
    void atLogicalLevelOnlyTruncateRecordsCount() {
        List<FoundStatement> found = find("TRUNCATE", true);
        assertEquals(List.of("0/153D4F8"), found.stream().map(f -> f.position().text()).toList());
    }

    @Test
    void aNameNarrowsTruncatesWhereTheCatalogStillKnowsThem() {
        assertEquals(List.of("0/1526860"), find("TRUNCATE t2", false).stream().map(f -> f.position().text()).toList());
        assertEquals(List.of("0/153D4F8"), find("TRUNCATE public.t3", false).stream().map(f -> f.position().text()).toList());
        assertEquals(List.of(), find("TRUNCATE nothing_like_it", false));
    }
}
