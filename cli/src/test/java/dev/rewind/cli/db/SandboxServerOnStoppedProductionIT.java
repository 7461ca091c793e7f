package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.dbadapters.Adapters;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.sandbox.ExportMounts;
import dev.rewind.dbadapters.sandbox.MountMap;
import dev.rewind.dbadapters.sandbox.SandboxJdbcUrl;
import dev.rewind.dbadapters.sandbox.SandboxServer;
import dev.rewind.dbadapters.sandbox.SandboxServerSpec;
import dev.rewind.testfixtures.tools.Tools;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount and start steps of a database on a sandbox, on the set's live exports while
 * production is stopped (the same situation: a file system whose journal must be replayed, a
 * data directory whose {@code pg_wal} is an absolute symlink into production's mount and a
 * stale {@code postmaster.pid}): PostgreSQL starts from production's recorded settings on its
 * own port with every path mapped, serves the rows, and stops; the mounts come down.
 */
class SandboxServerOnStoppedProductionIT {
    @TempDir
    Path dir;

    @Test
    void postgresStartsOnTheMountedExportsWithItsPathsMapped() throws Exception {
        try (PostgresOnRewind pg = PostgresOnRewind.create(dir)) {
            pg.psql("postgres", "create table kept as select g as id from generate_series(1, 100) g");
            Map<String, String> prodMounts = Map.of(PostgresOnRewind.DATA, dir.resolve("mnt-data").toString(),
                    PostgresOnRewind.WAL, dir.resolve("mnt-wal").toString());
            DatabaseAttachment a = new DatabaseAttachment(RewindServe.SET, "postgresql", pg.jdbcUrl(), "postgres", null, null, null, null,
                    List.of(), prodMounts, null, Duration.ofSeconds(1), 0);
            Map<String, String> settings;
            try (DatabaseAdapter production = Adapters.open(a)) {
                settings = production.serverSettings();
            }
            pg.stop();

            Path work = dir.resolve("work");
            List<String> members = List.of(PostgresOnRewind.DATA, PostgresOnRewind.WAL);
            ExportMounts mounts = ExportMounts.mount(work, work, members, m -> pg.serve().uri(RewindServe.SET + "/" + m));
            try {
                int port = Tools.freePort();
                SandboxServer server = SandboxServer.start(Engine.POSTGRESQL,
                        new SandboxServerSpec(settings, MountMap.of(prodMounts, mounts.mountDirs()), work, port));
                try {
                    String url = SandboxJdbcUrl.onLoopback(pg.jdbcUrl(), port);
                    DatabaseAttachment onSandbox = new DatabaseAttachment(a.setName(), a.engine(), url, a.user(), null, null, null, null,
                            List.of(), Map.of(), null, a.sampleEvery(), 0);
                    try (DatabaseAdapter sandbox = Adapters.open(onSandbox)) {
                        server.awaitAcceptingConnections(sandbox, Duration.ofMinutes(10));
                        sandbox.validate("select count(*) = 100 from kept");
                        sandbox.validate("select setting = '" + work.resolve("mnt/data/pgdata") + "' from pg_settings where name = 'data_directory'");
                    }
                    assertEquals(work.resolve("mnt/wal/pg_wal"), Files.readSymbolicLink(work.resolve("mnt/data/pgdata/pg_wal")));
                } finally {
                    server.stop(Duration.ofMinutes(5));
                }
                mounts.unmount();
                assertFalse(ExportMounts.anyMounted(work, members));
            } finally {
                ExportMounts.forceUnmount(work, members);
            }
        }
    }

    @Test
    void mariadbStartsOnTheMountedExportsWithItsPathsMapped() throws Exception {
        try (MariaDbOnRewind db = MariaDbOnRewind.create(dir)) {
            db.sql("USE shop; CREATE TABLE kept (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO kept SELECT seq FROM seq_1_to_100");
            Map<String, String> prodMounts = Map.of(MariaDbOnRewind.DATA, db.mountDir(MariaDbOnRewind.DATA).toString(),
                    MariaDbOnRewind.BINLOG, db.mountDir(MariaDbOnRewind.BINLOG).toString());
            DatabaseAttachment a = new DatabaseAttachment(RewindServe.SET, "mariadb", db.jdbcUrl(), MariaDbOnRewind.USER,
                    db.passwordFile().toString(), null, null, null, List.of(), prodMounts, null, Duration.ofSeconds(1), 0);
            Map<String, String> settings;
            try (DatabaseAdapter production = Adapters.open(a)) {
                settings = production.serverSettings();
            }
            db.stop();

            Path work = dir.resolve("work");
            List<String> members = List.of(MariaDbOnRewind.DATA, MariaDbOnRewind.BINLOG);
            ExportMounts mounts = ExportMounts.mount(work, work, members, m -> db.serve().uri(RewindServe.SET + "/" + m));
            try {
                int port = Tools.freePort();
                SandboxServer server = SandboxServer.start(Engine.MARIADB,
                        new SandboxServerSpec(settings, MountMap.of(prodMounts, mounts.mountDirs()), work, port));
                try {
                    String url = SandboxJdbcUrl.onLoopback(db.jdbcUrl(), port);
                    DatabaseAttachment onSandbox = new DatabaseAttachment(a.setName(), a.engine(), url, a.user(), a.passwordFile(), null, null,
                            null, List.of(), Map.of(), null, a.sampleEvery(), 0);
                    try (DatabaseAdapter sandbox = Adapters.open(onSandbox)) {
                        server.awaitAcceptingConnections(sandbox, Duration.ofMinutes(10));
                        sandbox.validate("SELECT COUNT(*) = 100 FROM shop.kept");
                        sandbox.validate("SELECT @@server_id <> " + settings.get("server_id"));
                        sandbox.validate("SELECT @@log_bin_basename LIKE '" + work.resolve("mnt") + "%'");
                    }
                } finally {
                    server.stop(Duration.ofMinutes(5));
                }
                mounts.unmount();
                assertFalse(ExportMounts.anyMounted(work, members));
            } finally {
                ExportMounts.forceUnmount(work, members);
            }
        }
    }
}
