package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.postgres.PostgresServer;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * PostgreSQL with its data directory on one member of a Rewind set and its WAL on another,
 * the way a DBA would run it: set {@value RewindServe#SET} with members {@value #DATA} and
 * {@value #WAL}, served by {@code rewind serve}; each member shown as a file by {@code nbdfuse},
 * made a block device by {@code losetup}, formatted ext4 and mounted; {@code initdb -D
 * <data>/pgdata -X <wal>/pg_wal} as the {@code postgres} OS user; the server on a free loopback
 * port, trust authentication, superuser {@code postgres}, the {@code amcheck} extension in
 * {@code template1} and {@code postgres}.
 *
 * <p>It writes {@code stop.sh} (pg_ctl stop -m fast, unmount both file systems, detach the loop
 * devices, unmount FUSE so nbdfuse exits and the NBD connections close) and {@code start.sh}
 * (the reverse, returning once PostgreSQL accepts connections) into the test dir: exactly what
 * a DBA passes to {@code rewind db attach --stop-cmd/--start-cmd}. {@link #stop()} and
 * {@link #start()} run those scripts; both are idempotent. {@link #close()} cleans up whatever
 * state a failure left (server, mounts, loops, nbdfuse, {@code rewind serve}).
 *
 * <pre>
 *   &lt;dir&gt;/                 mode 755 (the postgres user must reach the mounts)
 *     data/                 the Rewind data dir; serve.log its daemon's output
 *     start.sh, stop.sh     the DBA's scripts; setup.sh formats the members once
 *     fuse-data/nbd         nbdfuse's view of set/data (fuse-wal/nbd likewise), nbdfuse-*.log
 *     mnt-data/pgdata       PGDATA, on ext4 on the loop device over fuse-data/nbd
 *     mnt-wal/pg_wal        the WAL (PGDATA/pg_wal is a symlink to it)
 *     sock/                 unix_socket_directories, mode 777
 *     log/postgresql.log    the server's log, mode 777
 * </pre>
 *
 * Start it only from {@code *IT} classes; it needs root (loop devices, mount), FUSE, nbdfuse,
 * e2fsprogs and Debian's postgresql, and skips (fails in CI) without them.
 */
public final class PostgresOnRewind implements AutoCloseable {
    public static final String DATA = "data";
    public static final String WAL = "wal";
    /** pgbench -s 10 is about 160 MiB of tables and indexes; the WAL is held to max_wal_size 256MB plus what a checkpoint keeps. */
    static final String DATA_SIZE = "640M";
    static final String WAL_SIZE = "640M";
    static final String PV_SIZE = "1300M";
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(20);

    private final Path dir;
    private final Path bin;
    private final RewindServe serve;
    private final int port;
    private final MembersOnExt4 members;

    private PostgresOnRewind(Path dir, Path bin, RewindServe serve, int port) {
        this.members = new MembersOnExt4(dir, List.of(DATA, WAL));
        this.dir = dir;
        this.bin = bin;
        this.serve = serve;
        this.port = port;
    }

    /** Builds the whole stack in {@code dir} (an empty directory) and leaves PostgreSQL running. */
    public static PostgresOnRewind create(Path dir) throws IOException {
        MembersOnExt4.requireTools();
        Tools.requireTool("runuser", "util-linux");
        Path bin = PostgresServer.findBinDir();
        if (bin == null || !Files.isExecutable(bin.resolve("pgbench")) || !Files.isExecutable(bin.resolve("pg_amcheck"))) {
            Tools.unavailable("PostgreSQL server with pgbench and pg_amcheck not installed: apt-get install postgresql");
        }
        if (Tools.run(Duration.ofSeconds(10), "id", "-u", "postgres").exit() != 0) {
            Tools.unavailable("there is no 'postgres' OS user to run the server as: apt-get install postgresql");
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String sub : List.of("sock", "log")) {
            Files.createDirectories(dir.resolve(sub));
            Files.setPosixFilePermissions(dir.resolve(sub), PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        RewindServe serve = RewindServe.createOnPv(dir, PV_SIZE, DATA, DATA_SIZE, WAL, WAL_SIZE);
        PostgresOnRewind pg = null;
        try {
            serve.start();
            pg = new PostgresOnRewind(dir, bin, serve, Tools.freePort());
            pg.writeScripts();
            pg.runScript("setup.sh");
            pg.initdb();
            pg.start();
            pg.psql("postgres", "create extension amcheck");
            pg.psql("template1", "create extension amcheck");
            return pg;
        } catch (IOException | RuntimeException | Error e) {
            if (pg != null) {
                pg.close();
            } else {
                serve.close();
            }
            throw e;
        }
    }

    /** The Rewind side: {@code rewind serve} and the CLI on its data dir. */
    public RewindServe serve() {
        return serve;
    }

    public Path dir() {
        return dir;
    }

    public int port() {
        return port;
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/postgres}; user {@code postgres}, no password (trust). */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public Path stopScript() {
        return dir.resolve("stop.sh");
    }

    public Path startScript() {
        return dir.resolve("start.sh");
    }

    /** Runs stop.sh: PostgreSQL stopped, both file systems unmounted, no NBD client left on the set. */
    public void stop() {
        runScript("stop.sh");
    }

    /** Runs start.sh, then waits until PostgreSQL accepts connections. */
    public void start() {
        runScript("start.sh");
        awaitAcceptingConnections();
    }

    /** Waits (up to 10 minutes: crash recovery on a busy machine) until {@code pg_isready} says yes. */
    public void awaitAcceptingConnections() {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        Tools.Result last;
        do {
            last = Tools.run(Duration.ofSeconds(30), tool("pg_isready"), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres",
                    "-d", "postgres");
            if (last.exit() == 0) {
                return;
            }
            sleep(200);
        } while (System.nanoTime() < deadline);
        fail("PostgreSQL does not accept connections: " + last.describe() + "\n--- server log:\n" + serverLog());
    }

    /** psql as postgres in {@code database}, unaligned and tuples only; fails the test on an error. */
    public String psql(String database, String sql) {
        return Tools.run(TOOL_TIMEOUT, tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres", "-d", database, "-c", sql).assertOk().out().strip();
    }

    /** pgbench against the postgres database with these arguments; fails the test on an error. */
    public Tools.Result pgbench(String... args) {
        return Tools.run(TOOL_TIMEOUT, pgbenchCommand(args)).assertOk();
    }

    /** The pgbench command line with connection options, for running it in the background. */
    public List<String> pgbenchCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of(tool("pgbench"), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres"));
        cmd.addAll(List.of(args));
        cmd.add("postgres");
        return cmd;
    }

    /** pg_amcheck over every database (heap and B-tree indexes, {@code --heapallindexed}); returns its result, whatever its exit. */
    public Tools.Result amcheck() {
        return amcheck(port);
    }

    /** {@link #amcheck()} against the server on {@code serverPort} (a sandbox's), with this installation's pg_amcheck. */
    public Tools.Result amcheck(int serverPort) {
        return Tools.run(TOOL_TIMEOUT, tool("pg_amcheck"), "-h", "127.0.0.1", "-p", Integer.toString(serverPort), "-U", "postgres", "--all",
                "--heapallindexed");
    }

    /** The server's log so far. */
    public String serverLog() {
        try {
            Path log = dir.resolve("log/postgresql.log");
            return Files.exists(log) ? Files.readString(log) : "(no server log)";
        } catch (IOException e) {
            return "(server log unreadable: " + e.getMessage() + ")";
        }
    }

    private String tool(String name) {
        return bin.resolve(name).toString();
    }

    private void runScript(String name) {
        Tools.Result r = Tools.run(SCRIPT_TIMEOUT, "sh", dir.resolve(name).toString());
        if (r.exit() != 0) {
            fail(r.describe() + "\n--- server log (tail):\n" + tail(serverLog()));
        }
    }

    private void initdb() throws IOException {
        Path pgdata = dir.resolve("mnt-" + DATA).resolve("pgdata");
        Path pgwal = dir.resolve("mnt-" + WAL).resolve("pg_wal");
        Files.createDirectories(pgdata);
        Files.createDirectories(pgwal);
        Tools.run(Duration.ofSeconds(30), "chown", "postgres:", pgdata.toString(), pgwal.toString()).assertOk();
        Tools.run(TOOL_TIMEOUT, "runuser", "-u", "postgres", "--", tool("initdb"), "-D", pgdata.toString(), "-X", pgwal.toString(),
                "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions").assertOk();
        String settings = "listen_addresses = '127.0.0.1'\n"
                + "port = " + port + "\n"
                + "unix_socket_directories = '" + dir.resolve("sock") + "'\n"
                + "max_wal_size = '256MB'\n"
                + "min_wal_size = '80MB'\n";
        Tools.run(Duration.ofSeconds(30), "runuser", "-u", "postgres", "--", "sh", "-c", "printf '%s' \"$1\" >> \"$2\"", "sh", settings,
                pgdata.resolve("postgresql.auto.conf").toString()).assertOk();
        // initdb fsyncs what it writes; our append too, or a restore to a later seq may find it half written (as a crash would)
        Tools.run(Duration.ofSeconds(60), "sync", "-f", pgdata.resolve("postgresql.auto.conf").toString()).assertOk();
    }

    private void writeScripts() throws IOException {
        String vars = "DIR='" + dir + "'\n"
                + "URI='nbd+unix:///" + RewindServe.SET + "'\n"
                + "URI_QUERY='?socket=" + serve.socket() + "'\n"
                + "PGBIN='" + bin + "'\n"
                + "PGDATA=\"$DIR/mnt-" + DATA + "/pgdata\"\n";
        write("setup.sh", "#!/bin/sh\n# One-time setup: format both members ext4 and mount them.\nset -eu\n" + vars + members.formatAndMount());
        write("start.sh", "#!/bin/sh\n# Starts PostgreSQL on its Rewind volumes: each member through nbdfuse and a loop device,\n"
                + "# ext4 mounted; then pg_ctl start, which returns once the server accepts connections.\nset -eu\n" + vars + members.mount() + """
                # A restored image holds the postmaster.pid of the server that ran at that write; PostgreSQL
                # refuses to start while that PID lives, even as a zombie not yet reaped: remove it when it
                # names no live postgres.
                if [ -f "$PGDATA/postmaster.pid" ]; then
                  pid=$(head -n 1 "$PGDATA/postmaster.pid")
                  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != postgres ] || grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; then
                    rm -f "$PGDATA/postmaster.pid"
                  fi
                fi
                if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
                  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$DIR/log/postgresql.log" -w -t 600 start >/dev/null
                fi
                """);
        write("stop.sh", "#!/bin/sh\n# Stops PostgreSQL and takes its volumes off Rewind: pg_ctl stop -m fast, unmount both file\n"
                + "# systems, detach the loop devices, unmount FUSE (nbdfuse exits, its NBD connection closes).\nset -eu\n" + vars + """
                if [ -f "$PGDATA/postmaster.pid" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
                  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 300 stop >/dev/null
                fi
                """ + members.unmount());
    }

    private void write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /**
     * Stops everything, whatever state it is in: stop.sh first; if that fails, PostgreSQL is
     * stopped immediately, mounts are lazily unmounted, loops detached, nbdfuse killed. Then
     * {@code rewind serve} stops.
     */
    @Override
    public void close() {
        try {
            Tools.Result r = Tools.run(SCRIPT_TIMEOUT, "sh", stopScript().toString());
            if (r.exit() != 0) {
                System.err.println("PostgresOnRewind: stop.sh failed, cleaning up by force: " + r.describe());
                forceCleanup();
            }
        } catch (RuntimeException | AssertionError e) {
            System.err.println("PostgresOnRewind: stop.sh failed, cleaning up by force: " + e);
            forceCleanup();
        } finally {
            serve.close();
        }
    }

    private void forceCleanup() {
        Path pgdata = dir.resolve("mnt-" + DATA).resolve("pgdata");
        if (Files.exists(pgdata.resolve("postmaster.pid"))) {
            Tools.run(Duration.ofMinutes(1), "runuser", "-u", "postgres", "--", tool("pg_ctl"), "-D", pgdata.toString(), "-m", "immediate",
                    "-w", "stop");
        }
        members.forceUnmount();
    }

    private static String tail(String s) {
        return s.length() <= 4000 ? s : "..." + s.substring(s.length() - 4000);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
