package dev.rewind.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interrupts of the threads that use the job store (Quartz's, at shutdown) leave the H2 catalog open. */
class UninterruptibleJdbcTest {

    @Test
    void anInterruptedThreadWritingThroughTheShieldLeavesTheCatalogOpen(@TempDir Path dataDir) throws Exception {
        try (Catalog catalog = Catalog.open(CatalogConfig.h2In(dataDir)); UninterruptibleJdbc shield = new UninterruptibleJdbc()) {
            try (Connection c = catalog.dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("create table probe(id int primary key, payload varchar(4000))");
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicBoolean stillInterrupted = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                Thread.currentThread().interrupt(); // as Quartz does to its threads when it shuts down
                try (Connection c = shield.connect(catalog.dataSource())) {
                    c.setAutoCommit(false);
                    for (int i = 0; i < 200; i++) {
                        try (PreparedStatement ps = c.prepareStatement("insert into probe values (?, ?)")) {
                            ps.setInt(1, i);
                            ps.setString(2, "x".repeat(4000));
                            ps.executeUpdate();
                        }
                        c.commit();
                        try (Statement s = c.createStatement()) {
                            s.execute("CHECKPOINT SYNC");
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            });
            writer.start();
            writer.join();

            assertEquals(null, failure.get(), "the writes went through");
            assertTrue(stillInterrupted.get(), "the interrupt is kept for the thread that got it");
            try (Connection c = catalog.dataSource().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select count(*) from probe")) {
                rs.next();
                assertEquals(200, rs.getInt(1), "the catalog is open and has every row");
            }
            assertEquals(0, catalog.listSets().size());
        }
    }
}
