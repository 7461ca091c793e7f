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

    @ParameterizedTest
    @ValueSource(strings = {"DELETE FROM orders", "UPDATE x SET a = 1", "DROP INDEX i", "", "drop"})
    void refusesWhatTheWalCannotShowListingWhatItCan(String sql) {
        RewindException e = assertThrows(RewindException.class, () -> StatementPattern.parse(sql));
        assertTrue(e.getMessage().startsWith("cannot find '" + sql + "' in PostgreSQL's WAL"), e.getMessage());
        assertTrue(e.getMessage().endsWith("it can find: DROP TABLE [name], TRUNCATE [name]"), e.getMessage());
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
