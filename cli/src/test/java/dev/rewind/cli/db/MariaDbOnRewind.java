package dev.rewind.cli.db;

import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.cli.nbd.RewindServe;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * MariaDB with InnoDB (and the {@code mysql} system tables) on one member of a Rewind set and
 * its binary log on another, the way a DBA would run it: set {@value RewindServe#SET} with
 * members {@value #DATA} and {@value #BINLOG}, served by {@code rewind serve}, each an ext4
 * file system through nbdfuse and a loop device ({@link MembersOnExt4}); {@code mariadbd} as
 * the {@code mysql} OS user from {@code my.cnf}, on a free loopback port, with {@code
 * --log-bin=<binlog mnt>/binlog/mysql-bin}, row format, {@code sync-binlog=1} and {@code
 * innodb-flush-log-at-trx-commit=1}. The login {@value #USER} (all privileges, from
 * 127.0.0.1) has its password in a 0600 file, {@link #passwordFile()}; the database is
 * {@value #DATABASE}. {@link #sql} runs SQL as {@code root} through the socket.
 *
 * <p>It writes {@code stop.sh} (shut MariaDB down and wait for it to exit, unmount both file
 * systems, detach the loops, unmount FUSE) and {@code start.sh} (the reverse, returning once
 * MariaDB answers): what a DBA passes to {@code rewind db attach --stop-cmd/--start-cmd}.
 * {@link #stop()} and {@link #start()} run them; both are idempotent. {@link #close()} cleans
 * up whatever state a failure left (server, mounts, loops, nbdfuse, {@code rewind serve}).
 *
 * <pre>
 *   &lt;dir&gt;/                   mode 755 (the mysql user must reach the mounts)
 *     data/                   the Rewind data dir; serve.log its daemon's output
 *     my.cnf                  the server's settings; start.sh, stop.sh, setup.sh the DBA's scripts
 *     db-password             the password of {@value #USER}, mode 600
 *     run/mysqld.sock, .pid   the server's socket and pid file (run/ mode 777)
 *     log/error.log           the server's error log (log/ mode 777)
 *     mnt-data/mysql          the data dir (InnoDB, system tables), on ext4 over fuse-data/nbd
 *     mnt-binlog/binlog       the binary log, mysql-bin.NNNNNN
 * </pre>
 *
 * Start it only from {@code *IT} classes; it needs root (loop devices, mount), FUSE, nbdfuse,
 * e2fsprogs and Debian's mariadb-server, and skips (fails in CI) without them.
 */
public final class MariaDbOnRewind implements AutoCloseable {
    public static final String DATA = "data";
    public static final String BINLOG = "binlog";
    public static final String USER = "rewind";
    public static final String DATABASE = "shop";
    private static final String PASSWORD = "rewind-story-password";
    static final String DATA_SIZE = "400M";
    static final String BINLOG_SIZE = "128M";
    static final String PV_SIZE = "560M";
    private static final String PACKAGE = "mariadb-server";
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);

    private final Path dir;
    private final RewindServe serve;
    private final MembersOnExt4 members;
    private final int port;

    private MariaDbOnRewind(Path dir, RewindServe serve, int port) {
        this.dir = dir;
        this.serve = serve;
        this.members = new MembersOnExt4(dir, List.of(DATA, BINLOG));
        this.port = port;
    }

    /** Builds the whole stack in {@code dir} (an empty directory) and leaves MariaDB running, with {@value #DATABASE} created. */
    public static MariaDbOnRewind create(Path dir) throws IOException {
        MembersOnExt4.requireTools();
        for (String tool : List.of("mariadbd", "mariadb-install-db", "mariadb-admin", "mariadb")) {
            Tools.requireTool(tool, tool.equals("mariadb") || tool.equals("mariadb-admin") ? "mariadb-client" : PACKAGE);
        }
        if (Tools.run(Duration.ofSeconds(10), "id", "-u", "mysql").exit() != 0) {
            Tools.unavailable("there is no 'mysql' OS user to run the server as: apt-get install " + PACKAGE);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String sub : List.of("run", "log")) {
            Files.createDirectories(dir.resolve(sub));
            Files.setPosixFilePermissions(dir.resolve(sub), PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        Path password = dir.resolve("db-password");
        Files.writeString(password, PASSWORD + "\n");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
        RewindServe serve = RewindServe.createOnPv(dir, PV_SIZE, DATA, DATA_SIZE, BINLOG, BINLOG_SIZE);
        MariaDbOnRewind db = null;
        try {
            serve.start();
            db = new MariaDbOnRewind(dir, serve, Tools.freePort());
            db.writeScripts();
            db.runScript("setup.sh");
            db.install();
            db.start();
            db.sql("CREATE USER '" + USER + "'@'127.0.0.1' IDENTIFIED BY '" + PASSWORD + "'; "
                    + "GRANT ALL PRIVILEGES ON *.* TO '" + USER + "'@'127.0.0.1'; CREATE DATABASE " + DATABASE);
            return db;
        } catch (IOException | RuntimeException | Error e) {
            if (db != null) {
                db.close();
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

    /** {@code jdbc:mariadb://127.0.0.1:PORT/shop}; log in as {@value #USER} with the password in {@link #passwordFile()}. */
    public String jdbcUrl() {
        return "jdbc:mariadb://127.0.0.1:" + port + "/" + DATABASE;
    }

    /** The password of {@value #USER}, for this test's own JDBC connections. */
    public String password() {
        return PASSWORD;
    }

    /** The file holding the password of {@value #USER}, mode 600. */
    public Path passwordFile() {
        return dir.resolve("db-password");
    }

    /** Where the member's file system is mounted ({@code --mount MEMBER=DIR}). */
    public Path mountDir(String member) {
        return members.mountDir(member);
    }

    public Path stopScript() {
        return dir.resolve("stop.sh");
    }

    public Path startScript() {
        return dir.resolve("start.sh");
    }

    /** Runs stop.sh: MariaDB shut down, both file systems unmounted, no NBD client left on the set. */
    public void stop() {
        runScript("stop.sh");
    }

    /** Runs start.sh, which returns once MariaDB answers. */
    public void start() {
        runScript("start.sh");
    }

    /** Runs SQL (statements separated by {@code ;}) as root through the socket; returns its rows, tab-separated columns; fails the test on an error. */
    public List<List<String>> sql(String sql) {
        String out = Tools.run(TOOL_TIMEOUT, "mariadb", "--no-defaults", "-S", dir.resolve("run/mysqld.sock").toString(), "-uroot", "-N",
                "-B", "-e", sql).assertOk().out();
        List<List<String>> rows = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isEmpty()) {
                rows.add(List.of(line.split("\t", -1)));
            }
        }
        return rows;
    }

    /** The server's error log so far. */
    public String errorLog() {
        try {
            Path log = dir.resolve("log/error.log");
            return Files.exists(log) ? Files.readString(log) : "(no error log)";
        } catch (IOException e) {
            return "(error log unreadable: " + e.getMessage() + ")";
        }
    }

    private void runScript(String name) {
        Tools.Result r = Tools.run(SCRIPT_TIMEOUT, "sh", dir.resolve(name).toString());
        if (r.exit() != 0) {
            fail(r.describe() + "\n--- error log (tail):\n" + tail(errorLog()));
        }
    }

    private void install() throws IOException {
        Path datadir = mountDir(DATA).resolve("mysql");
        Path binlogs = mountDir(BINLOG).resolve("binlog");
        Files.createDirectories(datadir);
        Files.createDirectories(binlogs);
        Tools.run(Duration.ofSeconds(30), "chown", "mysql:", datadir.toString(), binlogs.toString()).assertOk();
        Tools.run(TOOL_TIMEOUT, "mariadb-install-db", "--no-defaults", "--datadir=" + datadir, "--user=mysql",
                "--auth-root-authentication-method=normal", "--skip-test-db").assertOk();
    }

    private void writeScripts() throws IOException {
        Path datadir = mountDir(DATA).resolve("mysql");
        write("my.cnf", "[mariadbd]\n"
                + "user = mysql\n"
                + "datadir = " + datadir + "\n"
                + "socket = " + dir.resolve("run/mysqld.sock") + "\n"
                + "pid-file = " + dir.resolve("run/mysqld.pid") + "\n"
                + "port = " + port + "\n"
                + "bind-address = 127.0.0.1\n"
                + "skip-name-resolve\n"
                + "log-error = " + dir.resolve("log/error.log") + "\n"
                + "log-bin = " + mountDir(BINLOG).resolve("binlog/mysql-bin") + "\n"
                + "server-id = 1\n"
                + "binlog-format = ROW\n"
                + "sync-binlog = 1\n"
                + "innodb-flush-log-at-trx-commit = 1\n"
                + "innodb-buffer-pool-size = 64M\n"
                + "innodb-log-file-size = 48M\n");
        String vars = "DIR='" + dir + "'\n"
                + "URI='nbd+unix:///" + RewindServe.SET + "'\n"
                + "URI_QUERY='?socket=" + serve.socket() + "'\n"
                + "SOCK=\"$DIR/run/mysqld.sock\"\n"
                + "PIDFILE=\"$DIR/run/mysqld.pid\"\n";
        write("setup.sh", "#!/bin/sh\n# One-time setup: format both members ext4 and mount them.\nset -eu\n" + vars + members.formatAndMount());
        write("start.sh", "#!/bin/sh\n# Starts MariaDB on its Rewind volumes: each member through nbdfuse and a loop device, ext4\n"
                + "# mounted; then mariadbd in the background, returning once it answers (crash recovery included).\nset -eu\n" + vars
                + members.mount() + """
                if ! mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1; then
                  setsid mariadbd --defaults-file="$DIR/my.cnf" </dev/null >>"$DIR/log/mariadbd.out" 2>&1 &
                  n=0
                  until mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1; do
                    n=$((n + 1))
                    if [ "$n" -gt 6000 ]; then echo "MariaDB did not answer within 10 minutes: see $DIR/log/error.log" >&2; exit 1; fi
                    if [ "$n" -gt 50 ] && ! pgrep -f "mariadbd --defaults-file=$DIR/my.cnf" >/dev/null; then
                      echo "mariadbd exited: $(tail -n 1 "$DIR/log/error.log")" >&2; exit 1
                    fi
                    sleep 0.1
                  done
                fi
                """);
        write("stop.sh", "#!/bin/sh\n# Stops MariaDB and takes its volumes off Rewind: shut the server down and wait until it has\n"
                + "# exited, unmount both file systems, detach the loop devices, unmount FUSE (nbdfuse exits).\nset -eu\n" + vars + """
                if [ -s "$PIDFILE" ]; then
                  pid=$(cat "$PIDFILE")
                  if kill -0 "$pid" 2>/dev/null; then
                    mariadb-admin --no-defaults --socket="$SOCK" -uroot shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
                    n=0
                    while kill -0 "$pid" 2>/dev/null; do
                      n=$((n + 1))
                      if [ "$n" -gt 3000 ]; then echo "mariadbd $pid did not exit within 5 minutes" >&2; exit 1; fi
                      sleep 0.1
                    done
                  fi
                fi
                """ + members.unmount());
    }

    private void write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(name.endsWith(".sh") ? "rwxr-xr-x" : "rw-r--r--"));
    }

    /**
     * Stops everything, whatever state it is in: stop.sh first; if that fails, mariadbd is
     * killed, the members are unmounted by force. Then {@code rewind serve} stops.
     */
    @Override
    public void close() {
        try {
            Tools.Result r = Tools.run(SCRIPT_TIMEOUT, "sh", stopScript().toString());
            if (r.exit() != 0) {
                System.err.println("MariaDbOnRewind: stop.sh failed, cleaning up by force: " + r.describe());
                forceCleanup();
            }
        } catch (RuntimeException | AssertionError e) {
            System.err.println("MariaDbOnRewind: stop.sh failed, cleaning up by force: " + e);
            forceCleanup();
        } finally {
            serve.close();
        }
    }

    private void forceCleanup() {
        Path pidFile = dir.resolve("run/mysqld.pid");
        try {
            if (Files.exists(pidFile)) {
                ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).ifPresent(p -> {
                    p.destroyForcibly();
                    p.onExit().join();
                });
            }
        } catch (IOException | NumberFormatException e) {
            System.err.println("MariaDbOnRewind: cannot read " + pidFile + ": " + e);
        }
        members.forceUnmount();
    }

    private static String tail(String s) {
        return s.length() <= 4000 ? s : "..." + s.substring(s.length() - 4000);
    }
}
