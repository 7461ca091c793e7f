package dev.rewind.dbadapters.sandbox;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.dbadapters.Adapters;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What refuses before any process starts: H2 (no server), settings that lack what the engine needs. */
class SandboxServerTest {
    @TempDir
    Path dir;

    @Test
    void h2HasNoServerToStartOnASandbox() {
        DatabaseAttachment a = new DatabaseAttachment("shop", "h2", "jdbc:h2:mem:sandbox-test", "sa", null, null, null, null, List.of(),
                Map.of(), null, Duration.ofSeconds(1), 0);
        try (DatabaseAdapter h2 = Adapters.open(a)) {
            RewindException e = assertThrows(RewindException.class, h2::serverSettings);
            assertTrue(e.getMessage().contains("no server for Rewind to start on a sandbox"), e.getMessage());
        }
        SandboxServerSpec spec = new SandboxServerSpec(Map.of(), MountMap.of(Map.of(), Map.of()), dir, 5432);
        assertThrows(RewindException.class, () -> SandboxServer.start(Engine.H2, spec));
    }

    @Test
    void settingsWithoutADataDirectoryAskToAttachAgain() {
        SandboxServerSpec spec = new SandboxServerSpec(Map.of("config_file", "/x"), MountMap.of(Map.of(), Map.of()), dir, 5432);
        RewindException e = assertThrows(RewindException.class, () -> SandboxServer.start(Engine.POSTGRESQL, spec));
        assertTrue(e.getMessage().contains("lack data_directory; run rewind db attach again while the database runs"), e.getMessage());
    }

    @Test
    void aDataDirectoryOnNoMemberNamesTheMountOption() {
        SandboxServerSpec spec = new SandboxServerSpec(Map.of("datadir", "/var/lib/mysql/"), MountMap.of(Map.of("data", "/srv/db"),
                Map.of("data", dir.resolve("mnt/data"))), dir, 3306);
        RewindException e = assertThrows(RewindException.class, () -> SandboxServer.start(Engine.MARIADB, spec));
        assertTrue(e.getMessage().contains("data directory /var/lib/mysql is on no member's mount"), e.getMessage());
    }
}
