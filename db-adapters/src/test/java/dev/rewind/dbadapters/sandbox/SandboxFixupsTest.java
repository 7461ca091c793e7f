package dev.rewind.dbadapters.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.RewindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What is fixed inside a sandbox before its database server sees it: symlinks, the binlog index, the server id. */
class SandboxFixupsTest {
    @TempDir
    Path dir;

    private MountMap map() {
        return MountMap.of(Map.of("data", "/prod/mnt-data", "wal", "/prod/mnt-wal"),
                Map.of("data", dir.resolve("mnt/data"), "wal", dir.resolve("mnt/wal")));
    }

    private SandboxServer.Owner me() throws Exception {
        return SandboxServer.Owner.of(dir);
    }

    @Test
    void absolutePgWalAndTablespaceSymlinksPointIntoTheSandbox() throws Exception {
        Path data = Files.createDirectories(dir.resolve("mnt/data/pgdata"));
        Files.createDirectories(data.resolve("pg_tblspc"));
        Files.createSymbolicLink(data.resolve("pg_wal"), Path.of("/prod/mnt-wal/pg_wal"));
        Files.createSymbolicLink(data.resolve("pg_tblspc/16384"), Path.of("/prod/mnt-data/ts1"));
        Files.createSymbolicLink(data.resolve("pg_tblspc/16385"), Path.of("../ts2"));

        PostgresSandboxServer.fixSymlinks(data, map(), me());

        assertEquals(dir.resolve("mnt/wal/pg_wal"), Files.readSymbolicLink(data.resolve("pg_wal")));
        assertEquals(dir.resolve("mnt/data/ts1"), Files.readSymbolicLink(data.resolve("pg_tblspc/16384")));
        assertEquals(Path.of("../ts2"), Files.readSymbolicLink(data.resolve("pg_tblspc/16385")), "a relative link already stays inside");

        PostgresSandboxServer.fixSymlinks(data, map(), me());
        assertEquals(dir.resolve("mnt/wal/pg_wal"), Files.readSymbolicLink(data.resolve("pg_wal")), "a second start finds it fixed");
    }

    @Test
    void aSymlinkOutsideEveryMountIsRefusedAndLeftAlone() throws Exception {
        Path data = Files.createDirectories(dir.resolve("mnt/data/pgdata"));
        Files.createSymbolicLink(data.resolve("pg_wal"), Path.of("/elsewhere/pg_wal"));
        RewindException e = assertThrows(RewindException.class, () -> PostgresSandboxServer.fixSymlinks(data, map(), me()));
        assertTrue(e.getMessage().contains("pg_wal"), e.getMessage());
        assertEquals(Path.of("/elsewhere/pg_wal"), Files.readSymbolicLink(data.resolve("pg_wal")));
    }

    @Test
    void binlogIndexPathsUnderProductionMountsAreRewritten() throws Exception {
        Path index = Files.createDirectories(dir.resolve("mnt/wal/binlog")).resolve("mysql-bin.index");
        Files.write(index, List.of("/prod/mnt-wal/binlog/mysql-bin.000001", "/prod/mnt-wal/binlog/mysql-bin.000002", "./mysql-bin.000003"));

        MariaDbSandboxServer.rewriteIndex(index, map(), me());

        assertEquals(List.of(dir.resolve("mnt/wal/binlog/mysql-bin.000001").toString(), dir.resolve("mnt/wal/binlog/mysql-bin.000002").toString(),
                "./mysql-bin.000003"), Files.readAllLines(index));
    }

    @Test
    void sandboxServerIdDiffersFromProductions() {
        assertEquals(2, MariaDbSandboxServer.sandboxServerId("1"));
        assertEquals(1, MariaDbSandboxServer.sandboxServerId("4294967295"));
        assertEquals(1, MariaDbSandboxServer.sandboxServerId(null));
    }
}
