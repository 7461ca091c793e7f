package dev.rewind.volumeset.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogTransactionsTest {
    @TempDir
    Path dir;

    private Catalog openWithSet(String name) {
        Catalog catalog = Catalog.open(CatalogConfig.h2In(dir));
        catalog.insertSet(new SetRecord(name, UUID.randomUUID(), dir.resolve(name), 1 << 20, List.of()));
        return catalog;
    }

    private static TransactionRecord tx(String set, long id) {
        return new TransactionRecord(set, id, id * 10 - 9, id * 10, id * 1000, id * 1000 + 500, 10, 40960, "period", "zstd", 3,
                1000, 1100, 40960, String.format("%016d.fwd", id), String.format("%016d.bwd", id));
    }

    @Test
    void aSetWithoutStoredSettingsHasTheDefaults() {
        try (Catalog catalog = openWithSet("shop")) {
            assertEquals(SetSettings.defaults("shop"), catalog.settings("shop"));
        }
    }

    @Test
    void settingsSurviveAReopenWithNullsKept() {
        SetSettings s = SetSettings.defaults("shop").withCutEvery(Duration.ofSeconds(30))
                .withCutAdaptive(Duration.ofSeconds(5), Duration.ofMinutes(5)).withCutWrites(50_000).withCutBytes(256L << 20)
                .withCodec("lz4").withKeepEveryWrite(Duration.ofHours(24));
        try (Catalog catalog = openWithSet("shop")) {
            catalog.updateSettings(s);
            catalog.updateSettings(s.withCutEvery(null));
        }
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(dir))) {
            assertEquals(s.withCutEvery(null), catalog.settings("shop"));
        }
    }

    @Test
    void transactionsAreInsertedOnceAndListedOldestFirst() {
        try (Catalog catalog = openWithSet("shop")) {
            assertEquals(2, catalog.insertTransactions(List.of(tx("shop", 2), tx("shop", 1))));
            assertEquals(1, catalog.insertTransactions(List.of(tx("shop", 1), tx("shop", 2), tx("shop", 3))));
            assertEquals(List.of(tx("shop", 1), tx("shop", 2), tx("shop", 3)), catalog.listTransactions("shop"));
            assertEquals(3, catalog.lastTransactionId("shop"));
            assertEquals(tx("shop", 2), catalog.findTransaction("shop", 2).orElseThrow());
            assertTrue(catalog.findTransaction("shop", 9).isEmpty());
        }
    }

    @Test
    void deletingASetRemovesItsSettingsAndTransactions() {
        try (Catalog catalog = openWithSet("shop")) {
            catalog.updateSettings(SetSettings.defaults("shop").withCodec("none"));
            catalog.insertTransactions(List.of(tx("shop", 1)));
            catalog.deleteSet("shop");
            catalog.insertSet(new SetRecord("shop", UUID.randomUUID(), dir.resolve("shop"), 1 << 20, List.of()));
            assertEquals(SetSettings.defaults("shop"), catalog.settings("shop"));
            assertTrue(catalog.listTransactions("shop").isEmpty());
        }
    }
}
