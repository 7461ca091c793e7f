package dev.rewind.dbadapters.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.volumeset.RewindException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MountMapTest {
    private final MountMap map = MountMap.of(Map.of("data", "/srv/pg", "wal", "/srv/pg/wal-disk", "other", "/srv/other"),
            Map.of("data", Path.of("/sb/mnt/data"), "wal", Path.of("/sb/mnt/wal")));

    @Test
    void pathUnderAMemberMountMapsToTheSameRelativePathOnTheSandbox() {
        assertEquals(Path.of("/sb/mnt/data/pgdata/base/1"), map.map("x", Path.of("/srv/pg/pgdata/base/1")));
        assertEquals(Path.of("/sb/mnt/data"), map.map("x", Path.of("/srv/pg")));
    }

    @Test
    void deepestMountWinsWhenMountsNest() {
        assertEquals(Path.of("/sb/mnt/wal/pg_wal"), map.map("x", Path.of("/srv/pg/wal-disk/pg_wal")));
    }

    @Test
    void aSiblingWithTheSamePrefixIsNotUnderTheMount() {
        assertEquals(Optional.empty(), map.find(Path.of("/srv/pgx/data")));
    }

    @Test
    void pathOutsideEveryMountIsRefusedOrKept() {
        RewindException e = assertThrows(RewindException.class, () -> map.map("data directory", Path.of("/var/lib/postgresql/15/main")));
        assertTrue(e.getMessage().contains("--mount MEMBER=DIR"), e.getMessage());
        assertEquals(Path.of("/etc/postgresql/15/main/postgresql.conf"), map.mapOrKeep(Path.of("/etc/postgresql/15/main/postgresql.conf")));
    }

    @Test
    void aMemberTheSandboxDidNotMountMapsNothing() {
        assertEquals(Optional.empty(), map.find(Path.of("/srv/other/file")));
    }

    @Test
    void dotDotCannotEscapeAMount() {
        assertEquals(Optional.empty(), map.find(Path.of("/srv/pg/../etc/passwd")));
    }
}
