package dev.rewind.dbadapters.sandbox;

import dev.rewind.dbadapters.api.ServerSettings;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * PostgreSQL started on a sandbox: the data directory is production's, mapped onto the
 * sandbox's mounts, with what points back at production fixed inside the sandbox before the
 * server sees it: the absolute {@code pg_wal} and {@code pg_tblspc/*} symlinks are rewritten to
 * the sandbox's mounts, and the {@code postmaster.pid} captured from the running production
 * server is removed. The server runs with production's configuration files (mapped when they
 * live on a member) and these overrides on its command line, which win over every file:
 *
 * <pre>
 *   data_directory, config_file, hba_file, ident_file   mapped to the sandbox
 *   port = P, listen_addresses = 127.0.0.1               its own port, loopback only
 *   unix_socket_directories = &lt;work&gt;/run              not production's socket
 *   archive_mode = off, restore_command = ''             never writes production's archive
 *   logging_collector = off, log_destination = stderr    its log is &lt;work&gt;/postgresql.log
 *   external_pid_file = '', ssl = off, cluster_name = rewind-sandbox
 * </pre>
 *
 * Stopped with a fast shutdown (SIGINT).
 */
final class PostgresSandboxServer extends SandboxServer {

    private PostgresSandboxServer(Process process, Path logFile, int port) {
        super(process, logFile, port);
    }

    static PostgresSandboxServer start(SandboxServerSpec spec) throws IOException {
        MountMap mounts = spec.mounts();
        Path data = mounts.map("data directory", Path.of(spec.required("data_directory")));
        if (!Files.isDirectory(data) || !Files.exists(data.resolve("PG_VERSION"))) {
            throw new RewindException("the sandbox has no PostgreSQL data directory at " + data
                    + ": at the sandbox's point the database was not there yet");
        }
        Owner owner = Owner.of(data);
        fixSymlinks(data, mounts, owner);
        Files.deleteIfExists(data.resolve("postmaster.pid"));
        Path run = privateDir(spec.workDir().resolve("run"), owner);
        Path binary = Path.of(spec.required(ServerSettings.SERVER_BINARY));
        if (!Files.isExecutable(binary)) {
            throw new RewindException("the PostgreSQL server program " + binary + " is not on this host; install the server package "
                    + "of the production database's major version here");
        }
        List<String> cmd = new ArrayList<>(owner.runAs());
        cmd.add(binary.toString());
        cmd.add("-D");
        cmd.add(data.toString());
        set(cmd, "data_directory", data.toString());
        set(cmd, "config_file", file(mounts, spec.required("config_file"), data.resolve("postgresql.conf")));
        set(cmd, "hba_file", file(mounts, spec.required("hba_file"), data.resolve("pg_hba.conf")));
        set(cmd, "ident_file", file(mounts, spec.required("ident_file"), data.resolve("pg_ident.conf")));
        set(cmd, "port", Integer.toString(spec.port()));
        set(cmd, "listen_addresses", "127.0.0.1");
        set(cmd, "unix_socket_directories", run.toString());
        set(cmd, "archive_mode", "off");
        set(cmd, "restore_command", "");
        set(cmd, "logging_collector", "off");
        set(cmd, "log_destination", "stderr");
        set(cmd, "external_pid_file", "");
        set(cmd, "ssl", "off");
        set(cmd, "cluster_name", "rewind-sandbox");
        Path log = spec.workDir().resolve("postgresql.log");
        Process p = new ProcessBuilder(cmd).directory(spec.workDir().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        p.getOutputStream().close();
        return new PostgresSandboxServer(p, log, spec.port());
    }

    @Override
    String fastShutdownSignal() {
        return "INT";
    }

    private static void set(List<String> cmd, String name, String value) {
        cmd.add("-c");
        cmd.add(name + "=" + value);
    }

    /**
     * A configuration file: production's, mapped when it lives on a member (and there on the
     * sandbox); otherwise production's own path (e.g. Debian's /etc/postgresql/..., read only),
     * or the data dir's file when production's is gone.
     */
    private static String file(MountMap mounts, String production, Path inDataDir) {
        Path p = Path.of(production);
        Path mapped = mounts.find(p).orElse(null);
        if (mapped != null) {
            return (Files.exists(mapped) ? mapped : inDataDir).toString();
        }
        return (Files.exists(p) ? p : inDataDir).toString();
    }

    /** Rewrites {@code pg_wal} and {@code pg_tblspc/*} when they are absolute symlinks into production's mounts; idempotent. */
    static void fixSymlinks(Path data, MountMap mounts, Owner owner) throws IOException {
        List<Path> links = new ArrayList<>();
        links.add(data.resolve("pg_wal"));
        Path tablespaces = data.resolve("pg_tblspc");
        if (Files.isDirectory(tablespaces)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(tablespaces)) {
                entries.forEach(links::add);
            }
        }
        for (Path link : links) {
            if (!Files.isSymbolicLink(link)) {
                continue;
            }
            Path target = Files.readSymbolicLink(link);
            if (!target.isAbsolute() || mounts.isOnSandbox(target)) {
                continue; // relative, or rewritten at an earlier start of this sandbox
            }
            Path mapped = mounts.map(data.relativize(link) + " (a symlink to " + target + ")", target);
            Files.delete(link);
            Files.createSymbolicLink(link, mapped);
            owner.chown(link);
        }
    }
}
