package dev.rewind.cli.db;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.dbadapters.Adapters;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.coordinate.Step;
import dev.rewind.dbadapters.coordinate.StepListener;
import dev.rewind.dbadapters.sandbox.ExportMounts;
import dev.rewind.dbadapters.sandbox.MountMap;
import dev.rewind.dbadapters.sandbox.SandboxJdbcUrl;
import dev.rewind.dbadapters.sandbox.SandboxServer;
import dev.rewind.dbadapters.sandbox.SandboxServerSpec;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.MemberRecord;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The daemon's databases started on sandboxes: for each, the sandbox's exports mounted in its
 * work dir ({@link #workDir}, under {@code /run/rewind}) and the private server running there. Created by
 * {@code rewind serve} and closed when it stops, which stops every such database and unmounts
 * (the sandboxes themselves stay). The catalog's sandbox row carries the port and pid while one
 * runs.
 */
public final class SandboxDatabases implements AutoCloseable {
    /** The root of the sandbox databases' work dirs; see {@link #workDir}. */
    static final Path RUN_ROOT = Path.of(System.getProperty("rewind.runDir", "/run/rewind"));
    private static final Duration STOP_TIMEOUT = Duration.ofMinutes(5);

    private record Running(StartedSandbox started, SandboxServer server, ExportMounts mounts, Catalog catalog) {
    }

    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final Map<String, Boolean> busy = new ConcurrentHashMap<>();

    /**
     * The daemon's, when {@code rewind serve} runs this command; otherwise a RewindException
     * saying that {@code doing} (e.g. {@code sandbox start}) needs it.
     */
    public static SandboxDatabases of(DataDir data, String doing) {
        DataDir.Daemon daemon = data.daemon();
        return (daemon == null ? Optional.<SandboxDatabases>empty() : daemon.service(SandboxDatabases.class)).orElseThrow(
                () -> new RewindException(doing + " needs 'rewind serve' running: it serves the sandbox's exports"));
    }

    /** Starts the set's attached database on the sandbox (mounting its exports); returns once it accepts connections. */
    public StartedSandbox start(DataDir data, String setName, String sandboxName, OptionalInt port, Duration timeout,
                                StepListener listener) throws IOException {
        DataDir.Daemon daemon = data.daemon();
        if (daemon == null) {
            throw new RewindException("sandbox start needs 'rewind serve' running: it serves the sandbox's exports");
        }
        Catalog catalog = data.catalog();
        SandboxRecord sandbox = data.sandboxes().find(setName, sandboxName);
        DatabaseAttachment attachment = AttachedDatabase.of(catalog, setName);
        Engine engine = Engine.ofLabel(attachment.engine());
        if (engine == Engine.H2) {
            throw new RewindException("H2 runs inside its application: there is no server for Rewind to start on a sandbox; "
                    + "open the sandbox's exports (" + setName + "/<member>@sandbox:" + sandboxName + ") with the application yourself");
        }
        String key = key(setName, sandboxName);
        Running already = running.get(key);
        if (already != null) {
            throw new RewindException("sandbox " + sandboxName + " of set " + setName + " already has its database running on port "
                    + already.started().port() + "; stop it first: rewind sandbox stop " + setName + " " + sandboxName);
        }
        if (sandbox.databasePid() != null && ProcessHandle.of(sandbox.databasePid()).map(ProcessHandle::isAlive).orElse(false)) {
            throw new RewindException("sandbox " + sandboxName + " of set " + setName + " still has the database an earlier rewind serve "
                    + "started on it (pid " + sandbox.databasePid() + ", port " + sandbox.databasePort() + "); stop that process first");
        }
        if (busy.putIfAbsent(key, Boolean.TRUE) != null) {
            throw new RewindException("sandbox " + sandboxName + " of set " + setName + " is being started or stopped right now");
        }
        try {
            return startOwned(data, daemon, catalog, sandbox, attachment, engine, port, timeout, listener);
        } finally {
            busy.remove(key);
        }
    }

    private StartedSandbox startOwned(DataDir data, DataDir.Daemon daemon, Catalog catalog, SandboxRecord sandbox,
            DatabaseAttachment attachment, Engine engine, OptionalInt port, Duration timeout, StepListener listener) throws IOException {
        String setName = sandbox.setName();
        Map<String, String> settings = serverSettings(catalog, attachment, listener);
        int chosenPort = port.isPresent() ? requireFree(port.getAsInt()) : freePort();
        List<String> members = memberNames(data, setName);
        Path workDir = workDir(data, setName, sandbox.name());
        if (ExportMounts.anyMounted(workDir, members)) {
            ExportMounts.forceUnmount(workDir, members); // what a daemon that died left behind
        }
        Instant t0 = Instant.now();
        ExportMounts mounts = ExportMounts.mount(workDir, RUN_ROOT, members,
                m -> daemon.nbdUri(ExportMounts.sandboxExport(setName, m, sandbox.name())));
        listener.stepDone(new Step("mount", Duration.between(t0, Instant.now()), true,
                members.size() + " file systems under " + workDir.resolve("mnt")));
        SandboxServer server = null;
        try {
            t0 = Instant.now();
            MountMap map = MountMap.of(attachment.mounts(), mounts.mountDirs());
            server = SandboxServer.start(engine, new SandboxServerSpec(settings, map, workDir, chosenPort));
            listener.stepDone(new Step("start", Duration.between(t0, Instant.now()), true, engine.label() + " server pid " + server.pid()
                    + " on 127.0.0.1:" + chosenPort + ", log " + server.logFile()));
            String url = SandboxJdbcUrl.onLoopback(attachment.jdbcUrl(), chosenPort);
            StartedSandbox started = new StartedSandbox(setName, sandbox.name(), engine.label(), chosenPort, server.pid(), url, workDir,
                    server.logFile());
            t0 = Instant.now();
            try (DatabaseAdapter adapter = connect(attachment, url)) {
                server.awaitAcceptingConnections(adapter, timeout);
            }
            listener.stepDone(new Step("accepting connections", Duration.between(t0, Instant.now()), true, url));
            catalog.sandboxes().updateDatabase(sandbox.withDatabase(chosenPort, server.pid()));
            running.put(key(setName, sandbox.name()), new Running(started, server, mounts, catalog));
            return started;
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.kill();
            }
            ExportMounts.forceUnmount(workDir, members);
            throw e;
        }
    }

    /** Stops it and unmounts; false if none was running. */
    public boolean stop(String setName, String sandboxName) throws IOException {
        String key = key(setName, sandboxName);
        if (busy.putIfAbsent(key, Boolean.TRUE) != null) {
            throw new RewindException("sandbox " + sandboxName + " of set " + setName + " is being started or stopped right now");
        }
        try {
            Running r = running.get(key);
            if (r == null) {
                return false;
            }
            try {
                r.server().stop(STOP_TIMEOUT);
                r.mounts().unmount();
            } catch (IOException | RuntimeException e) {
                r.server().kill();
                ExportMounts.forceUnmount(r.mounts().workDir(), List.copyOf(r.mounts().mountDirs().keySet()));
                throw e;
            } finally {
                running.remove(key);
                r.catalog().sandboxes().find(setName, sandboxName)
                        .ifPresent(s -> r.catalog().sandboxes().updateDatabase(s.withDatabase(null, null)));
            }
            return true;
        } finally {
            busy.remove(key);
        }
    }

    public Optional<StartedSandbox> running(String setName, String sandboxName) {
        return Optional.ofNullable(running.get(key(setName, sandboxName))).map(Running::started);
    }

    /** An adapter connected to the sandbox's database (same credentials as production); close it. */
    public DatabaseAdapter connect(DataDir data, StartedSandbox started) {
        return connect(AttachedDatabase.of(data.catalog(), started.setName()), started.jdbcUrl());
    }

    /** Stops every database started on a sandbox and unmounts; the sandboxes stay. */
    @Override
    public void close() {
        for (Running r : new ArrayList<>(running.values())) {
            try {
                stop(r.started().setName(), r.started().sandboxName());
            } catch (IOException | RuntimeException e) {
                System.err.println("rewind: stopping the database of sandbox " + r.started().sandboxName() + " of set "
                        + r.started().setName() + ": " + e.getMessage());
            }
        }
    }

    private static DatabaseAdapter connect(DatabaseAttachment a, String url) {
        return Adapters.open(new DatabaseAttachment(a.setName(), a.engine(), url, a.user(), a.passwordFile(), a.passwordEnv(), null, null,
                List.of(), Map.of(), null, a.sampleEvery(), a.attachedAtMicros()));
    }

    /** Production's settings, read now when it answers (and recorded), else the ones recorded while it did. */
    private static Map<String, String> serverSettings(Catalog catalog, DatabaseAttachment a, StepListener listener) {
        Instant t0 = Instant.now();
        try (DatabaseAdapter adapter = Adapters.open(a)) {
            Map<String, String> settings = adapter.serverSettings();
            catalog.databases().recordServerSettings(a.setName(), settings);
            listener.stepDone(new Step("settings", Duration.between(t0, Instant.now()), true, "read from the running database"));
            return settings;
        } catch (RewindException e) {
            Map<String, String> recorded = catalog.databases().serverSettings(a.setName());
            if (recorded.isEmpty()) {
                throw new RewindException("cannot read the database's server settings (" + e.getMessage() + ") and none were recorded; "
                        + "run rewind db attach " + a.setName() + " again while the database runs");
            }
            listener.stepDone(new Step("settings", Duration.between(t0, Instant.now()), true,
                    "the ones recorded while the database ran (now: " + e.getMessage() + ")"));
            return recorded;
        }
    }

    private static int requireFree(int port) {
        if (port < 1 || port > 65535) {
            throw new dev.rewind.volumeset.MalformedValueException("--port " + port + " is not a TCP port; give 1..65535, or leave it out for a free one");
        }
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return port;
        } catch (IOException e) {
            throw new RewindException("port " + port + " is in use on 127.0.0.1; choose another with --port, or leave it out for a free one");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    /**
     * Where a sandbox's database runs: its mounts, socket and log. Not in the data dir, which is
     * its owner's alone (0700): the database's OS user must reach the mounts, so they live under
     * {@link #RUN_ROOT} ({@code /run/rewind}; {@code -Drewind.runDir} to change), in
     * {@code sandboxes/<data dir key>/<set>/<name>/}, where only the mount points can be passed
     * through (each file system keeps its own modes).
     */
    public static Path workDir(DataDir data, String setName, String sandboxName) {
        return workDir(data.path(), setName, sandboxName);
    }

    /** {@link #workDir(DataDir, String, String)} of the data dir at {@code dataDir}. */
    public static Path workDir(Path dataDir, String setName, String sandboxName) {
        return RUN_ROOT.resolve("sandboxes").resolve(dataDirKey(dataDir)).resolve(setName).resolve(sandboxName);
    }

    /** The names of set {@code setName}'s members, which name a sandbox's mount points. */
    static List<String> memberNames(DataDir data, String setName) {
        return data.volumes().findSet(setName).members().stream().map(MemberRecord::name).toList();
    }

    /** Deletes a dropped sandbox's work dir (its database's log and socket dir), unless something is still mounted there. */
    public static void forget(DataDir data, String setName, String sandboxName) {
        List<String> members = memberNames(data, setName);
        Path dir = workDir(data, setName, sandboxName);
        try {
            if (Files.isDirectory(dir) && !ExportMounts.anyMounted(dir, members)) {
                DataDir.deleteTree(dir);
                for (Path emptied = dir.getParent(); !emptied.equals(RUN_ROOT.resolve("sandboxes")); emptied = emptied.getParent()) {
                    try {
                        Files.delete(emptied); // the set's and the data dir's directories, once nothing is left in them
                    } catch (java.nio.file.DirectoryNotEmptyException | java.nio.file.NoSuchFileException e) {
                        break;
                    }
                }
            }
        } catch (IOException e) {
            System.err.println("rewind: leaving " + dir + ": " + e.getMessage());
        }
    }

    private static String dataDirKey(Path dataDir) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(dataDir.toAbsolutePath().normalize().toString()
                    .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String key(String setName, String sandboxName) {
        return setName + "@sandbox:" + sandboxName;
    }
}
