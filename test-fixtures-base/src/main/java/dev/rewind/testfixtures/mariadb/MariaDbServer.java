package dev.rewind.testfixtures.mariadb;

import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.testfixtures.tools.Tools;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A MariaDB server of its own for one test: Debian's {@code mariadbd}, a data dir made by
 * {@code mariadb-install-db} (or one the test gives, e.g. on a Rewind volume), listening on
 * {@code 127.0.0.1} at a free port with its own socket, pid file and error log, and binary
 * logging on as Rewind needs it ({@code --log-bin=<datadir>/mysql-bin}, {@code --server-id=1},
 * row format, {@code --sync-binlog=1}, {@code --innodb-flush-log-at-trx-commit=1}). It creates
 * the login {@value #USER} (password {@link #PASSWORD}, all privileges, from any host) and the
 * database {@value #DATABASE}, which {@link #jdbcUrl()} names. {@link #execute} and
 * {@link #query} run SQL as the server's {@code root} through the socket with the
 * {@code mariadb} client.
 *
 * <p>Run as root, the server runs as the {@code mysql} OS user the Debian package creates
 * ({@code --user=mysql}), which owns the data dir; as a normal user it runs as that user.
 * {@link #stop()} shuts it down (SIGTERM, then SIGKILL after a minute), {@link #startAgain()}
 * starts it again on the same port and data dir, {@link #kill()} is a crash (SIGKILL), and
 * {@link #close()} kills it and deletes the temp dir (a data dir the test gave is left where
 * it is). A shutdown hook kills it too should the test JVM exit first. Start it only from
 * {@code *IT} classes.
 *
 * <pre>
 *   &lt;tmp&gt;/rewind-maria-XXXX/   owned by the server's OS user, mode 700
 *     data/                      the data dir (unless the test gave one), binlogs mysql-bin.NNNNNN in it
 *     mysqld.sock, mysqld.pid    the server's socket and pid file
 *     error.log                  --log-error
 * </pre>
 */
public final class MariaDbServer implements AutoCloseable {
    public static final String USER = "rewind";
    public static final String PASSWORD = "rewind-test-password";
    public static final String DATABASE = "rewind";
    private static final String PACKAGE = "mariadb-server";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final int START_ATTEMPTS = 3;

    private final Path mariadbd;
    private final Path client;
    private final Path baseDir;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private final String osUser; // null: run as ourselves
    private final Thread killAtExit;
    private int port;
    private Process process;

    private MariaDbServer(Path baseDir, Path dataDir, boolean ownsDataDir, String osUser) {
        this.mariadbd = Tools.require("mariadbd", PACKAGE);
        this.client = Tools.require("mariadb", "mariadb-client");
        this.baseDir = baseDir;
        this.dataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
        this.osUser = osUser;
        this.killAtExit = new Thread(this::killQuietly, "mariadb-server-kill");
    }

    /**
     * Initialises a fresh data dir in a temp dir and starts a server on it, with the test's
     * user and database created. Skips the test (fails it when CI=true) if Debian's
     * {@code mariadb-server} package is not installed.
     */
    public static MariaDbServer start() {
        return open(null);
    }

    /**
     * Starts a server on {@code dataDir} (created and initialised if it holds no {@code mysql}
     * system database yet; a {@code lost+found} of a fresh file system is fine), with the
     * test's user and database created if missing. {@link #close()} leaves {@code dataDir}.
     */
    public static MariaDbServer startWithDataDir(Path dataDir) {
        return open(dataDir.toAbsolutePath());
    }

    private static MariaDbServer open(Path givenDataDir) {
        Tools.require("mariadbd", PACKAGE);
        Tools.require("mariadb-install-db", PACKAGE);
        boolean root = "0".equals(Tools.run(Duration.ofSeconds(10), "id", "-u").out().strip());
        if (root && Tools.run(Duration.ofSeconds(10), "id", "-u", "mysql").exit() != 0) {
            Tools.unavailable("running as root, and there is no 'mysql' OS user to run the server as: apt-get install " + PACKAGE);
        }
        String osUser = root ? "mysql" : null;
        Path baseDir = createBaseDir(osUser);
        Path dataDir = givenDataDir == null ? baseDir.resolve("data") : givenDataDir;
        MariaDbServer server = new MariaDbServer(baseDir, dataDir, givenDataDir == null, osUser);
        try {
            server.installIfEmpty();
            server.startOnFreePort();
            server.execute("CREATE USER IF NOT EXISTS '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'; "
                    + "GRANT ALL PRIVILEGES ON *.* TO '" + USER + "'@'%'; "
                    + "CREATE DATABASE IF NOT EXISTS " + DATABASE);
            return server;
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    /** {@code jdbc:mariadb://127.0.0.1:<port>/rewind}; connect as {@link #USER} with {@link #PASSWORD}. */
    public String jdbcUrl() {
        return "jdbc:mariadb://127.0.0.1:" + port + "/" + DATABASE;
    }

    public int port() {
        return port;
    }

    /** The server's data dir (its binlogs are {@code mysql-bin.NNNNNN} in it). */
    public Path dataDir() {
        return dataDir;
    }

    /** The server's Unix socket. */
    public Path socket() {
        return baseDir.resolve("mysqld.sock");
    }

    /** Whether the server process is alive. */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Runs {@code sql} (one or more statements separated by {@code ;}) as root; fails the test on an error. */
    public void execute(String sql) {
        mariadb(sql).assertOk();
    }

    /** Runs a query as root and returns its rows, each as its tab-separated columns (no header; NULL as {@code NULL}). */
    public List<List<String>> query(String sql) {
        String out = mariadb(sql).assertOk().out();
        List<List<String>> rows = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isEmpty()) {
                rows.add(List.of(line.split("\t", -1)));
            }
        }
        return rows;
    }

    /** The first column of the first row of a query run as root, or null when it returns no row. */
    public String queryValue(String sql) {
        List<List<String>> rows = query(sql);
        return rows.isEmpty() ? null : rows.get(0).get(0);
    }

    /** Shuts the server down cleanly (SIGTERM; SIGKILL if it has not exited within a minute); the data dir stays. */
    public void stop() {
        if (isRunning()) {
            process.destroy();
            waitForExit(STOP_TIMEOUT);
        }
        process = null;
    }

    /** Kills the server at once (SIGKILL), as a crash would; the data dir stays. */
    public void kill() {
        if (isRunning()) {
            process.destroyForcibly();
            waitForExit(STOP_TIMEOUT);
        }
        process = null;
    }

    /** Stops the server if it runs and starts it again, same port and data dir. */
    public void restart() {
        stop();
        startAgain();
    }

    /** Starts the stopped (or killed) server again on the same port and data dir and waits until it answers. */
    public void startAgain() {
        if (isRunning()) {
            throw new IllegalStateException("the MariaDB server on port " + port + " is running already");
        }
        Tools.Result last = launch();
        if (last != null) {
            fail("MariaDB did not start again on port " + port + ": " + last.describe() + "\n--- error.log:\n" + errorLog());
        }
    }

    /** Kills the server if it runs and deletes the temp dir (and the data dir if the fixture made it). */
    @Override
    public void close() {
        try {
            kill();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(killAtExit);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // the JVM is exiting, or the hook was never added
            }
            deleteTree(baseDir);
        }
    }

    /** The server's error log, for assertion messages. */
    public String errorLog() {
        try {
            return Files.readString(baseDir.resolve("error.log"));
        } catch (IOException e) {
            return "(no error.log: " + e.getMessage() + ")";
        }
    }

    private void installIfEmpty() {
        if (Files.isDirectory(dataDir.resolve("mysql"))) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("mkdir", "-p", dataDir.toString()));
        Tools.run(COMMAND_TIMEOUT, cmd).assertOk();
        if (osUser != null) {
            Tools.run(COMMAND_TIMEOUT, "chown", osUser + ":", dataDir.toString()).assertOk();
        }
        List<String> install = new ArrayList<>(List.of(Tools.requireTool("mariadb-install-db", PACKAGE), "--no-defaults",
                "--datadir=" + dataDir, "--auth-root-authentication-method=normal", "--skip-test-db"));
        if (osUser != null) {
            install.add("--user=" + osUser);
        }
        Tools.run(COMMAND_TIMEOUT, install).assertOk();
    }

    private void startOnFreePort() {
        Tools.Result last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            port = Tools.freePort();
            last = launch();
            if (last == null) {
                Runtime.getRuntime().addShutdownHook(killAtExit);
                return;
            }
        }
        fail("MariaDB did not start: " + last.describe() + "\n--- error.log:\n" + errorLog());
    }

    /** Starts mariadbd and waits until it answers a ping; null when it does, else the last ping's result (the server is gone then). */
    private Tools.Result launch() {
        List<String> cmd = new ArrayList<>(List.of(mariadbd.toString(), "--no-defaults", "--datadir=" + dataDir,
                "--port=" + port, "--bind-address=127.0.0.1", "--skip-name-resolve",
                "--socket=" + socket(), "--pid-file=" + baseDir.resolve("mysqld.pid"), "--log-error=" + baseDir.resolve("error.log"),
                "--log-bin=" + dataDir.resolve("mysql-bin"), "--server-id=1", "--binlog-format=ROW", "--sync-binlog=1",
                "--innodb-flush-log-at-trx-commit=1"));
        if (osUser != null) {
            cmd.add("--user=" + osUser);
        }
        try {
            process = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd, e);
        }
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        Tools.Result ping = null;
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                process = null;
                return ping != null ? ping : new Tools.Result(cmd, -1, "", "mariadbd exited at start");
            }
            if (Files.exists(socket())) {
                ping = Tools.run(Duration.ofSeconds(30), client.toString(), "--no-defaults", "-S", socket().toString(), "-uroot",
                        "-e", "SELECT 1");
                if (ping.exit() == 0) {
                    return null;
                }
            }
            sleep(Duration.ofMillis(100));
        }
        kill();
        return ping != null ? ping : new Tools.Result(cmd, -1, "", "mariadbd did not answer within " + START_TIMEOUT);
    }

    private Tools.Result mariadb(String sql) {
        if (!isRunning()) {
            fail("the MariaDB server on port " + port + " is not running; cannot run: " + sql);
        }
        return Tools.run(COMMAND_TIMEOUT, client.toString(), "--no-defaults", "-S", socket().toString(), "-uroot", "-N", "-B",
                "-e", sql);
    }

    private void waitForExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private void killQuietly() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for MariaDB", e);
        }
    }

    /** A short path (the socket path must stay under about 100 bytes), owned by the server's OS user, mode 700. */
    private static Path createBaseDir(String osUser) {
        try {
            Path tmp = Path.of("/tmp");
            Path parent = Files.isDirectory(tmp) && Files.isWritable(tmp) ? tmp : Path.of(System.getProperty("java.io.tmpdir"));
            Path dir = Files.createTempDirectory(parent, "rewind-maria-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if (osUser != null) {
                Tools.run(Duration.ofSeconds(10), "chown", osUser + ":", dir.toString()).assertOk();
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                if (!ownsDataDir && p.startsWith(dataDir)) {
                    continue;
                }
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the MariaDB test dir " + dir, e);
        }
    }
}
