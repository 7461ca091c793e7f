package dev.rewind.volumeset.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogSchemaTest {

    @Test
    void latestVersionIsTheHighestMigrationScript() throws IOException {
        Path scripts = Path.of("src/main/resources", CatalogSchema.LOCATION);
        Pattern name = Pattern.compile("V(\\d+)__.*\\.sql");
        int highest = 0;
        try (Stream<Path> files = Files.list(scripts)) {
            for (Path f : files.toList()) {
                Matcher m = name.matcher(f.getFileName().toString());
                if (m.matches()) {
                    highest = Math.max(highest, Integer.parseInt(m.group(1)));
                }
            }
        }
        assertEquals(highest, CatalogSchema.LATEST_VERSION,
                "a migration was added to " + scripts + ": raise CatalogSchema.LATEST_VERSION to its version");
    }

    @Test
    void aFreshDatabaseIsBehindAndAMigratedOneIsCurrent(@TempDir Path dataDir) throws SQLException {
        CatalogConfig config = CatalogConfig.h2In(dataDir);
        try (Connection c = connect(config)) {
            assertFalse(CatalogSchema.isCurrent(single(c)), "no history table yet");
        }
        Catalog.open(config).close();
        try (Connection c = connect(config)) {
            assertTrue(CatalogSchema.isCurrent(single(c)), "just migrated by Flyway");
        }
    }

    @Test
    void aFailedOrNewerMigrationIsLeftToFlyway(@TempDir Path dataDir) throws SQLException {
        CatalogConfig config = CatalogConfig.h2In(dataDir);
        Catalog.open(config).close();
        try (Connection c = connect(config); Statement s = c.createStatement()) {
            s.executeUpdate("update \"rewind_schema_history\" set \"success\" = false where \"version\" = '1'");
            assertFalse(CatalogSchema.isCurrent(single(c)), "a failed migration is not current");
            s.executeUpdate("update \"rewind_schema_history\" set \"success\" = true, \"version\" = '"
                    + (CatalogSchema.LATEST_VERSION + 1) + "' where \"version\" = '1'");
            assertFalse(CatalogSchema.isCurrent(single(c)), "a catalog from a newer Rewind is not current");
        }
    }

    @Test
    void aCurrentCatalogOpensWithoutFlyway(@TempDir Path dataDir) throws SQLException {
        CatalogConfig config = CatalogConfig.h2In(dataDir);
        Catalog.open(config).close();
        // Flyway validates checksums on every migrate; a changed checksum proves it was not run.
        try (Connection c = connect(config); Statement s = c.createStatement()) {
            s.executeUpdate("update \"rewind_schema_history\" set \"checksum\" = 12345 where \"version\" = '1'");
        }
        try (Catalog catalog = Catalog.open(config)) {
            assertEquals(List.of(), catalog.listSets());
        }
    }

    @Test
    void aCatalogBehindIsMigratedAtOpen(@TempDir Path dataDir) throws SQLException {
        CatalogConfig config = CatalogConfig.h2In(dataDir);
        try (Connection c = connect(config)) {
            assertFalse(CatalogSchema.isCurrent(single(c)));
        }
        try (Catalog catalog = Catalog.open(config)) {
            assertEquals(List.of(), catalog.listPvs());
        }
        try (Connection c = connect(config)) {
            assertTrue(CatalogSchema.isCurrent(single(c)));
        }
    }

    private static Connection connect(CatalogConfig config) throws SQLException {
        return DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
    }

    /** A data source that hands out the one connection and never closes it. */
    private static javax.sql.DataSource single(Connection c) {
        return (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(CatalogSchemaTest.class.getClassLoader(),
                new Class<?>[] {javax.sql.DataSource.class}, (proxy, method, args) -> {
                    if (!method.getName().equals("getConnection")) {
                        throw new UnsupportedOperationException(method.getName());
                    }
                    return java.lang.reflect.Proxy.newProxyInstance(CatalogSchemaTest.class.getClassLoader(),
                            new Class<?>[] {Connection.class}, (p, m, a) -> m.getName().equals("close") ? null : m.invoke(c, a));
                });
    }
}
