package dev.rewind.dbadapters.postgresql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.postgresql.StatementPattern.Kind;
import dev.rewind.volumeset.RewindException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StatementPatternTest {

    @Test
    void readsDropTableWithAndWithoutNames() {
        assertEquals(new StatementPattern(Kind.DROP_TABLE, List.of()), StatementPattern.parse("DROP TABLE"));
        assertEquals(new StatementPattern(Kind.DROP_TABLE, List.of()), StatementPattern.parse("  drop   table ; "));
        assertEquals(new StatementPattern(Kind.DROP_TABLE, List.of()), StatementPattern.parse("DROP TABLE CASCADE"));
        assertEquals(new StatementPattern(Kind.DROP_TABLE, List.of("pgbench_accounts")), StatementPattern.parse("drop table pgbench_accounts"));
        assertEquals(new StatementPattern(Kind.DROP_TABLE, List.of("public.a", "b")),
                StatementPattern.parse("DROP TABLE IF EXISTS public.a, \"B\" CASCADE;"));
    }

    @Test
    void readsTruncateWithAndWithoutNames() {
        assertEquals(new StatementPattern(Kind.TRUNCATE, List.of()), StatementPattern.parse("TRUNCATE"));
        assertEquals(new StatementPattern(Kind.TRUNCATE, List.of()), StatementPattern.parse("truncate table"));
        assertEquals(new StatementPattern(Kind.TRUNCATE, List.of("orders")), StatementPattern.parse("TRUNCATE TABLE ONLY orders RESTART IDENTITY"));
        assertEquals(new StatementPattern(Kind.TRUNCATE, List.of("shop.orders", "items")), StatementPattern.parse("TRUNCATE shop.orders, items"));
    }

    @Test
    void readsUpdateWithAndWithoutANameIgnoringWhatFollowsIt() {
        assertEquals(new StatementPattern(Kind.UPDATE, List.of()), StatementPattern.parse("UPDATE"));
        assertEquals(new StatementPattern(Kind.UPDATE, List.of()), StatementPattern.parse("update set v = 0"));
        assertEquals(new StatementPattern(Kind.UPDATE, List.of("orders")), StatementPattern.parse("UPDATE orders"));
        assertEquals(new StatementPattern(Kind.UPDATE, List.of("shop.orders")), StatementPattern.parse("update \"Shop\".orders SET v = 0;"));
        assertEquals(new StatementPattern(Kind.UPDATE, List.of("orders")), StatementPattern.parse("UPDATE ONLY orders AS o SET v = 0\n WHERE true"));
    }

    @Test
    void readsDeleteWithAndWithoutFromAndAName() {
        assertEquals(new StatementPattern(Kind.DELETE, List.of()), StatementPattern.parse("DELETE"));
        assertEquals(new StatementPattern(Kind.DELETE, List.of()), StatementPattern.parse("delete from"));
        assertEquals(new StatementPattern(Kind.DELETE, List.of("orders")), StatementPattern.parse("DELETE FROM orders"));
        assertEquals(new StatementPattern(Kind.DELETE, List.of("orders")), StatementPattern.parse("DELETE orders"));
        assertEquals(new StatementPattern(Kind.DELETE, List.of("shop.orders")), StatementPattern.parse("delete from shop.orders o where o.id < 10;"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"INSERT INTO orders VALUES (1)", "UPDATE a, b SET x = 1", "DROP INDEX i", "", "drop", "ALTER TABLE t DROP COLUMN c"})
    void refusesWhatTheWalCannotShowListingWhatItCan(String sql) {
        RewindException e = assertThrows(RewindException.class, () -> StatementPattern.parse(sql));
        assertTrue(e.getMessage().startsWith("cannot find '" + sql + "' in PostgreSQL's WAL"), e.getMessage());
        assertTrue(e.getMessage().endsWith("it can find: DROP TABLE [name], TRUNCATE [name], UPDATE [name], DELETE FROM [name]"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aBareNameMatchesAnySchemaAQualifiedOneOnlyItsOwn() {
        StatementPattern bare = StatementPattern.parse("TRUNCATE orders");
        assertTrue(bare.namesRelation("public.orders"));
        assertTrue(bare.namesRelation("shop.ORDERS"));
        assertFalse(bare.namesRelation("public.orders_archive"));
        StatementPattern qualified = StatementPattern.parse("TRUNCATE shop.orders");
        assertTrue(qualified.namesRelation("shop.orders"));
        assertFalse(qualified.namesRelation("public.orders"));
    }
}
