package dev.rewind.dbadapters.sandbox;

import dev.rewind.dbadapters.api.ServerSettings;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * MariaDB (or MySQL) started on a sandbox: {@code mariadbd --no-defaults} with every setting
 * that decides how it reads production's files given on its command line, each path mapped
 * onto the sandbox's mounts:
 *
 * <pre>
 *   --datadir, --log-bin, --log-bin-index, --innodb-*-dir   mapped to the sandbox
 *   --innodb-page-size, --innodb-data-file-path, --innodb-log-file-size, --innodb-undo-tablespaces,
 *   --innodb-checksum-algorithm, --lower-case-table-names, --character-set-server,
 *   --collation-server, --plugin-dir, --binlog-format        as production has them
 *   --port P --bind-address=127.0.0.1                         its own port, loopback only
 *   --socket, --pid-file in &lt;work&gt;/run                      not production's
 *   --server-id (production's + 1), --skip-slave-start       never a replica of anything
 * </pre>
 *
 * The binlog index file lists binlog files by absolute path: those under production's mounts
 * are rewritten in the sandbox. Runs as the owner of the data directory (through
 * {@code --user}); its error log is its standard error, {@code <work>/mariadbd.log}. Stopped
 * with SIGTERM (a normal shutdown).
 */
final class MariaDbSandboxServer extends SandboxServer {
    private static final List<String> AS_PRODUCTION = List.of("innodb_page_size", "innodb_data_file_path", "innodb_log_file_size",
            "innodb_undo_tablespaces", "innodb_checksum_algorithm", "lower_case_table_names", "character_set_server", "collation_server",
            "plugin_dir", "binlog_format");
    private static final List<String> DIRECTORIES = List.of("innodb_data_home_dir", "innodb_log_group_home_dir", "innodb_undo_directory");
    private static final long MAX_SERVER_ID = 4_294_967_295L;

    private MariaDbSandboxServer(Process process, Path logFile, int port) {
        super(process, logFile, port);
    }

    static MariaDbSandboxServer start(SandboxServerSpec spec) throws IOException {
        MountMap mounts = spec.mounts();
        Path data = mounts.map("data directory", Path.of(spec.required("datadir")));
        if (!Files.isDirectory(data.resolve("mysql"))) {
            throw new RewindException("the sandbox has no MariaDB data directory at " + data
                    + ": at the sandbox's point the database was not there yet");
        }
        Owner owner = Owner.of(data);
        Path run = privateDir(spec.workDir().resolve("run"), owner);
        Path binary = Path.of(spec.required(ServerSettings.SERVER_BINARY));
        if (!Files.isExecutable(binary)) {
            throw new RewindException("the server program " + binary + " is not on this host; install mariadb-server here");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.add("--no-defaults");
        cmd.add("--datadir=" + data);
        cmd.add("--user=" + owner.name());
        cmd.add("--port=" + spec.port());
        cmd.add("--bind-address=127.0.0.1");
        cmd.add("--socket=" + run.resolve("mysqld.sock"));
        cmd.add("--pid-file=" + run.resolve("mysqld.pid"));
        cmd.add("--server-id=" + sandboxServerId(spec.settings().get("server_id")));
        cmd.add("--skip-slave-start");
        if (isOn(spec.settings().get("log_bin"))) {
            Path base = mounts.map("binlog", Path.of(spec.required("log_bin_basename")));
            Path index = mounts.map("binlog index", Path.of(spec.required("log_bin_index")));
            rewriteIndex(index, mounts, owner);
            cmd.add("--log-bin=" + base);
            cmd.add("--log-bin-index=" + index);
        } else {
            cmd.add("--skip-log-bin");
        }
        for (String name : DIRECTORIES) {
            String v = spec.settings().get(name);
            if (v != null && !v.isBlank()) {
                Path p = Path.of(v);
                cmd.add(option(name) + "=" + (p.isAbsolute() ? mounts.map(name, p) : v));
            }
        }
        for (String name : AS_PRODUCTION) {
            String v = spec.settings().get(name);
            if (v != null && !v.isBlank()) {
                cmd.add(option(name) + "=" + v);
            }
        }
        if (isOn(spec.settings().get("skip_name_resolve"))) {
            cmd.add("--skip-name-resolve");
        }
        Path log = spec.workDir().resolve("mariadbd.log");
        Process p = new ProcessBuilder(cmd).directory(spec.workDir().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        p.getOutputStream().close();
        return new MariaDbSandboxServer(p, log, spec.port());
    }

    @Override
    String fastShutdownSignal() {
        return "TERM";
    }

    /** A server id other than production's. */
    static long sandboxServerId(String production) {
        long id = production == null || production.isBlank() ? 0 : Long.parseLong(production.strip());
        return id >= MAX_SERVER_ID ? 1 : id + 1;
    }

    /** Rewrites the absolute binlog paths in the index file that lie under production's mounts. */
    static void rewriteIndex(Path index, MountMap mounts, Owner owner) throws IOException {
        if (!Files.exists(index)) {
            return;
        }
        List<String> lines = Files.readAllLines(index, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        boolean changed = false;
        for (String line : lines) {
            String mapped = line;
            if (line.startsWith("/")) {
                mapped = mounts.find(Path.of(line)).map(Path::toString).orElse(line);
            }
            changed |= !mapped.equals(line);
            out.add(mapped);
        }
        if (changed) {
            Files.write(index, out, StandardCharsets.UTF_8);
            owner.chown(index);
        }
    }

    private static String option(String variable) {
        return "--" + variable.replace('_', '-');
    }

    private static boolean isOn(String value) {
        return value != null && (value.equalsIgnoreCase("ON") || value.equals("1") || value.toLowerCase(Locale.ROOT).equals("true"));
    }
}
