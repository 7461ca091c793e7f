package dev.rewind.testfixtures.postgres;

import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of its own for one test: Debian's server binaries
 * ({@code /usr/lib/postgresql/<version>/bin}, the newest installed), {@code initdb} into a temp
 * dir, listening on {@code 127.0.0.1} at a free port with its Unix socket inside the temp dir,
 * trust authentication for local and loopback connections, and otherwise PostgreSQL's defaults
 * (fsync and all: durability stays real). It creates the login {@value #USER} owning the
 * database {@value #DATABASE}, which {@link #jdbcUrl()} names; the superuser is
 * {@value #SUPERUSER}.
 *
 * <p>The server refuses to run as root, so when the tests run as root every server command
 * runs as the {@code postgres} OS user the Debian package creates ({@code runuser -u postgres}),
 * which owns the temp dir; as a normal user they run directly. {@link #close()} stops the
 * server ({@code pg_ctl stop -m fast}) and deletes the temp dir; a shutdown hook stops it too
 * should the test JVM exit first. Start it only from {@code *IT} classes.
 *
 * <pre>
 *   &lt;tmp&gt;/rewind-pg-XXXX/     owned by the server's OS user, mode 700
 *     data/                     the cluster (initdb)
 *     socket/                   unix_socket_directories
 *     server.log                pg_ctl -l
 * </pre>
 */
public final class PostgresServer implements AutoCloseable {
    public static final String USER = "rewind";
    public static final String DATABASE = "rewind";
    public static final String SUPERUSER = "postgres";
    private static final Path DEBIAN_SERVERS = Path.of("/usr/lib/postgresql");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    private static final int START_ATTEMPTS = 3;

    private final Path binDir;
    private final Path baseDir;
    private final String osUser; // null: run commands as ourselves
    private final Thread stopAtExit;
    private int port;
    private boolean running;

    private PostgresServer(Path binDir, Path baseDir, String osUser) {
        this.binDir = binDir;
        this.baseDir = baseDir;
        this.osUser = osUser;
        this.stopAtExit = new Thread(this::stopQuietly, "postgres-server-stop");
    }

    /**
     * Initialises and starts a server, with the test's user and database created. Skips the
     * test (fails it when CI=true) if Debian's {@code postgresql} package is not installed.
     */
    public static PostgresServer start() {
        Path binDir = findBinDir();
        if (binDir == null) {
            Tools.unavailable("PostgreSQL server not installed (no " + DEBIAN_SERVERS + "/*/bin/initdb): apt-get install postgresql");
        }
        boolean root = "0".equals(Tools.run(Duration.ofSeconds(10), "id", "-u").out().strip());
        if (root && Tools.run(Duration.ofSeconds(10), "id", "-u", "postgres").exit() != 0) {
            Tools.unavailable("running as root, and there is no 'postgres' OS user to run the server as: apt-get install postgresql");
        }
        Path baseDir = createBaseDir(root);
        PostgresServer server = new PostgresServer(binDir, baseDir, root ? "postgres" : null);
        try {
            server.initdb();
            server.startOnFreePort();
            server.psqlAs(SUPERUSER, "postgres", "create user " + USER + " login");
            server.psqlAs(SUPERUSER, "postgres", "create database " + DATABASE + " owner " + USER);
            return server;
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/rewind}; connect as {@link #USER}, no password (trust). */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
    }

    public int port() {
        return port;
    }

    /** The cluster's data directory. */
    public Path dataDir() {
        return baseDir.resolve("data");
    }

    /** The directory of the server binaries in use ({@code initdb}, {@code pg_ctl}, {@code postgres}, {@code psql}). */
    public Path binDir() {
        return binDir;
    }

    /** Runs {@code sql} with psql in the test's database as the superuser; fails the test on an error. Output is unaligned, tuples only. */
    public Tools.Result psql(String sql) {
        return psqlAs(SUPERUSER, DATABASE, sql);
    }

    /**
     * From now on {@link #USER} must give {@code password} over TCP (scram-sha-256), as on a
     * production server; the superuser keeps trust authentication, so {@link #psql} still
     * works. Returns this server.
     */
    public PostgresServer withPassword(String password) {
        psqlAs(SUPERUSER, "postgres", "set password_encryption = 'scram-sha-256'; alter user " + USER + " password '"
                + password.replace("'", "''") + "'");
        String hba = "local all all trust\n"
                + "host all " + SUPERUSER + " 127.0.0.1/32 trust\n"
                + "host all all 127.0.0.1/32 scram-sha-256\n";
        run(List.of("sh", "-c", "printf '%s' \"$1\" > \"$2\"", "sh", hba, dataDir().resolve("pg_hba.conf").toString())).assertOk();
        restart(); // a reload would apply the new rules a moment later; a restart has applied them when it returns
        return this;
    }

    /** Stops the server ({@code pg_ctl stop -m fast}); the data dir stays until {@link #close()}. */
    public void stop() {
        if (running) {
            pgCtl("-m", "fast", "stop").assertOk();
            running = false;
        }
    }

    /** Stops the server if it runs and starts it again, same port and data dir. */
    public void restart() {
        stop();
        pgCtl("-l", baseDir.resolve("server.log").toString(), "start").assertOk();
        running = true;
    }

    /** Stops the server if it runs and deletes its temp dir. */
    @Override
    public void close() {
        try {
            stop();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stopAtExit);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // the JVM is exiting, or the hook was never added
            }
            deleteTree(baseDir);
        }
    }

    private void initdb() {
        run(List.of(binDir.resolve("initdb").toString(), "-D", dataDir().toString(), "-U", SUPERUSER, "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-instructions")).assertOk();
    }

    private void startOnFreePort() {
        Tools.Result last = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            port = Tools.freePort();
            writeSettings();
            last = pgCtl("-l", baseDir.resolve("server.log").toString(), "start");
            if (last.exit() == 0) {
                running = true;
                Runtime.getRuntime().addShutdownHook(stopAtExit);
                return;
            }
        }
        throw new AssertionError("PostgreSQL did not start: " + last.describe() + "\n--- server.log:\n" + serverLog());
    }

    /** Loopback only, our port, the socket in our dir: appended to postgresql.auto.conf, read last, so the latest wins. */
    private void writeSettings() {
        Path conf = dataDir().resolve("postgresql.auto.conf");
        String settings = "listen_addresses = '127.0.0.1'\n"
                + "port = " + port + "\n"
                + "unix_socket_directories = '" + baseDir.resolve("socket") + "'\n";
        run(List.of("sh", "-c", "printf '%s' \"$1\" >> \"$2\"", "sh", settings, conf.toString())).assertOk();
    }

    private Tools.Result pgCtl(String... args) {
        List<String> cmd = new ArrayList<>(List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir().toString(), "-w", "-t", "90"));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private Tools.Result psqlAs(String user, String database, String sql) {
        return run(List.of(binDir.resolve("psql").toString(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", Integer.toString(port), "-U", user, "-d", database, "-c", sql)).assertOk();
    }

    private Tools.Result run(List<String> command) {
        List<String> cmd = new ArrayList<>();
        if (osUser != null) {
            cmd.addAll(List.of("runuser", "-u", osUser, "--"));
        }
        cmd.addAll(command);
        return Tools.run(COMMAND_TIMEOUT, cmd);
    }

    private String serverLog() {
        try {
            return Files.readString(baseDir.resolve("server.log"));
        } catch (IOException e) {
            return "(no server.log: " + e.getMessage() + ")";
        }
    }

    private void stopQuietly() {
        if (running) {
            run(List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir().toString(), "-m", "immediate", "stop"));
        }
    }

    /** The newest {@code /usr/lib/postgresql/<version>/bin} that has initdb, pg_ctl and postgres, or null. */
    public static Path findBinDir() {
        if (!Files.isDirectory(DEBIAN_SERVERS)) {
            return null;
        }
        try (Stream<Path> versions = Files.list(DEBIAN_SERVERS)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(bin -> Stream.of("initdb", "pg_ctl", "postgres", "psql").allMatch(t -> Files.isExecutable(bin.resolve(t))))
                    .max(Comparator.comparingInt(PostgresServer::majorVersion))
                    .orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString().split("\\.")[0]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A short path (the socket path must stay under about 100 bytes), owned by the server's OS user, mode 700. */
    private static Path createBaseDir(boolean root) {
        try {
            Path tmp = Path.of("/tmp");
            Path parent = Files.isDirectory(tmp) && Files.isWritable(tmp) ? tmp : Path.of(System.getProperty("java.io.tmpdir"));
            Path dir = Files.createTempDirectory(parent, "rewind-pg-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.createDirectory(dir.resolve("socket"));
            if (root) {
                Tools.run(Duration.ofSeconds(10), "chown", "-R", "postgres:", dir.toString()).assertOk();
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the PostgreSQL test dir " + dir, e);
        }
    }
}
