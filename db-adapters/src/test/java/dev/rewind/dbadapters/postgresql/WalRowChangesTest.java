package dev.rewind.dbadapters.postgresql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.api.FoundStatement;
import dev.rewind.dbadapters.api.RelationNameHistory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * UPDATE and DELETE found by the rows their transactions changed, in pg_waldump output
 * captured from PostgreSQL 15 (the {@code .waldump} resources beside this class):
 *
 * <ul>
 *   <li>{@code pg15-update-delete-drop}: shop.orders (file 16385, TOAST 16388, primary key
 *       16390) of five rows; xid 725 {@code update shop.orders set v = 0} (5 HOT updates);
 *       726 an update of one row's key (UPDATE plus an index insert); 727 a delete of one
 *       row; 728 an update of one row and, in a savepoint (subxact 729), a delete of
 *       another; 730 an update of all rows rolled back; 731 {@code drop table t2} (16392),
 *       732 {@code drop table t3} (16395), both deleting rows of the system catalogs.</li>
 *   <li>{@code pg15-update-rewrite-delete}: public.big (16398, primary key 16403); xid 734
 *       an update of two rows, one moved to another page; 735 {@code vacuum full big},
 *       which moves it to file 16405 (primary key 16410); 736 a delete of three rows.</li>
 *   <li>{@code pg15-toast-update-delete}: public.docs (16415, TOAST 16418); xid 752 an
 *       update of one row's toasted value (the old chunks deleted, new ones inserted); 753
 *       {@code delete from docs}: four rows, three of them with TOAST chunks.</li>
 *   <li>{@code pg15-update-init}: public.w (16384) of 240 rows on two pages; xid 725
 *       {@code update w set v = 0}, one of whose new row versions starts a third page
 *       ({@code UPDATE+INIT}).</li>
 * </ul>
 */
class WalRowChangesTest {

    private static final RelationNameHistory ORDERS = order -> Optional.of(Map.of("base/5/16385", "shop.orders", "base/5/16388",
            "shop.orders", "base/5/16390", "shop.orders", "base/5/16392", "public.t2", "base/5/16395", "public.t3"));

    /** Before the VACUUM FULL big is in 16398; after it, in 16405, and 16398 is read as another table's (as a reused node would be). */
    private static final RelationNameHistory BIG = order -> order > Lsn.parse("0/01581A10").value()
            ? Optional.of(Map.of("base/5/16405", "public.big", "base/5/16410", "public.big", "base/5/16398", "public.other"))
            : Optional.of(Map.of("base/5/16398", "public.big", "base/5/16403", "public.big"));

    private static final RelationNameHistory DOCS = order -> Optional.of(Map.of("base/5/16415", "public.docs", "base/5/16418", "public.docs"));

    private static List<WalCommit> commits(String resource) {
        List<WalCommit> commits = new ArrayList<>();
        WalTransactions transactions = new WalTransactions(commits::add, true);
        try (InputStream in = WalRowChangesTest.class.getResourceAsStream(resource + ".waldump");
             BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            lines.lines().forEach(l -> WalRecord.parse(l).ifPresent(transactions));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return commits;
    }

    private static List<FoundStatement> find(String resource, StatementPattern pattern, RelationNameHistory history) {
        WalStatements statements = new WalStatements(pattern, false, WalStatements.RelationNames.NONE, history);
        return commits(resource).stream().flatMap(c -> statements.match(c).stream()).toList();
    }

    private static List<FoundStatement> find(String resource, String sql, RelationNameHistory history) {
        return find(resource, StatementPattern.parse(sql), history);
    }

    private static List<String> descriptions(List<FoundStatement> found) {
        return found.stream().map(FoundStatement::description).toList();
    }

    @Test
    void updateOfATableListsEachCommittedTransactionThatUpdatedItWithItsRowCountAtItsCommit() {
        List<FoundStatement> found = find("pg15-update-delete-drop", "UPDATE orders", ORDERS);
        assertEquals(List.of("UPDATE shop.orders: 5 rows (xid 725)", "UPDATE shop.orders: 1 row (xid 726)",
                "UPDATE shop.orders: 1 row (xid 728)"), descriptions(found));
        assertEquals(List.of(5L, 1L, 1L), found.stream().map(FoundStatement::rows).toList());
        assertEquals(List.of("0/152B008", "0/152B158", "0/152B260"), found.stream().map(f -> f.position().text()).toList(),
                "each at its COMMIT record");
        assertEquals(java.time.Instant.parse("2026-12-07T21:01:02.294164Z"), found.get(0).time());
        assertTrue(found.stream().noneMatch(FoundStatement::unnamed));
        assertEquals(descriptions(found), descriptions(find("pg15-update-delete-drop", "update shop.orders set v = 0;", ORDERS)),
                "the rest of the statement is not compared");
        assertEquals(descriptions(found), descriptions(find("pg15-update-delete-drop", "UPDATE", ORDERS)), "a bare UPDATE");
        assertEquals(List.of(), find("pg15-update-delete-drop", "UPDATE other.orders", ORDERS), "another schema's orders");
        assertEquals(List.of(), find("pg15-update-delete-drop", "UPDATE t2", ORDERS), "the drop's catalog updates are not t2's rows");
    }

    @Test
    void deleteCountsRowsOfSubtransactionsWithTheirParentAndNeverTheCatalogRowsOfADrop() {
        List<FoundStatement> found = find("pg15-update-delete-drop", "DELETE FROM orders", ORDERS);
        assertEquals(List.of("DELETE FROM shop.orders: 1 row (xid 727)", "DELETE FROM shop.orders: 1 row (xid 728)"), descriptions(found));
        assertEquals(descriptions(found), descriptions(find("pg15-update-delete-drop", "delete shop.orders where id = 2", ORDERS)));
        assertEquals(descriptions(found), descriptions(find("pg15-update-delete-drop", "DELETE", ORDERS)));
        assertEquals(List.of(), find("pg15-update-delete-drop", "DELETE FROM t3", ORDERS));
    }

    @Test
    void withoutSampledNamesRowsAreListedAsUnnamedWhenATableIsAskedForAndNotAtAllForABareStatement() {
        List<FoundStatement> found = find("pg15-update-delete-drop", "UPDATE orders", RelationNameHistory.NONE);
        assertEquals(List.of("UPDATE of unnamed relation 16385: 5 rows (xid 725)", "UPDATE of unnamed relation 16385: 1 row (xid 726)",
                "UPDATE of unnamed relation 16385: 1 row (xid 728)"), descriptions(found));
        assertTrue(found.stream().allMatch(FoundStatement::unnamed), "never taken for the table asked for");
        assertEquals(List.of(), find("pg15-update-delete-drop", "UPDATE", RelationNameHistory.NONE));
    }

    @Test
    void aRelationIsNamedByTheMappingInForceAtItsCommitAcrossARewriteOntoANewFile() {
        assertEquals(List.of("UPDATE public.big: 2 rows (xid 734)"), descriptions(find("pg15-update-rewrite-delete", "UPDATE big", BIG)),
                "named by the mapping before its commit; a row moved to another page is one row");
        assertEquals(List.of("DELETE FROM public.big: 3 rows (xid 736)"),
                descriptions(find("pg15-update-rewrite-delete", "DELETE FROM big", BIG)), "after the rewrite big is file 16405");
        assertEquals(List.of(), find("pg15-update-rewrite-delete", "UPDATE other", BIG),
                "a later mapping giving 16398 to another table does not name the earlier update");
    }

    @Test
    void anUpdateWhoseNewRowStartsAPageCountsToo() {
        RelationNameHistory w = order -> Optional.of(Map.of("base/5/16384", "public.w"));
        assertEquals(List.of("UPDATE public.w: 240 rows (xid 725)"), descriptions(find("pg15-update-init", "UPDATE w", w)));
    }

    @Test
    void toastChunksGoingWithTheirRowsAreNotCountedAsDeletedRows() {
        assertEquals(List.of("UPDATE public.docs: 1 row (xid 752)"), descriptions(find("pg15-toast-update-delete", "UPDATE docs", DOCS)));
        assertEquals(List.of("DELETE FROM public.docs: 4 rows (xid 753)"),
                descriptions(find("pg15-toast-update-delete", "DELETE FROM docs", DOCS)), "an update's old chunks are no DELETE");
    }

    @Test
    void aTransactionAskedForByIdIsDescribedWithAllItDidAndItsFirstRecord() {
        List<WalCommit> commits = commits("pg15-update-delete-drop");
        WalCommit savepoint = commits.stream().filter(c -> c.xid() == 728).findFirst().orElseThrow();
        assertEquals(Lsn.parse("0/0152B1E0"), savepoint.firstLsn());
        assertEquals(List.of(725L, 726L, 727L, 728L, 731L, 732L), commits.stream().map(WalCommit::xid).toList(), "the rollback is not there");
        List<FoundStatement> any = find("pg15-update-delete-drop", StatementPattern.ANY, ORDERS);
        assertEquals("transaction 728 (first record 0/152B1E0): UPDATE shop.orders: 1 row; DELETE FROM shop.orders: 1 row", any.get(3).description());
        assertEquals("transaction 731 (first record 0/152B390): drops base/5/16392 (public.t2)", any.get(4).description());
        assertEquals(Lsn.parse("0/0155B1A0"), commits("pg15-update-rewrite-delete").stream().filter(c -> c.xid() == 735).findFirst()
                .orElseThrow().firstLsn());
    }
}
