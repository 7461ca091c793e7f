package dev.rewind.cli.db;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.sandbox.Sandboxes;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.dbadapters.Adapters;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.LogFiles;
import dev.rewind.dbadapters.sandbox.ExportMounts;
import dev.rewind.volumeset.MalformedValueException;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where {@code db find} and the restore targets in the database's own terms read its log.
 * From the server when it answers, as always. When it does not (a DBA stops it right after a
 * mistake), from the log files, with the data dir the server reported while it ran (recorded
 * at attach) found:
 * <ul>
 *   <li>under {@code --mount DIR}, where the member whose recorded mount holds the data dir is
 *       mounted now (with {@code --mount} the server is not asked at all);</li>
 *   <li>at its recorded place, when the file system is still mounted there;</li>
 *   <li>otherwise on a throwaway view of the set's newest seq: a sandbox at that seq
 *       ({@value #VIEW_PREFIX}SEQ), its exports mounted read-only the way sandboxes are
 *       ({@link ExportMounts}, through the daemon's NBD server); {@link #close} unmounts and
 *       drops it, also after a failure, and so does {@code rewind serve} as it starts for one
 *       a dead daemon left.</li>
 * </ul>
 * {@link #source} says which, for the user.
 */
public final class DatabaseLog implements AutoCloseable {
    /** The prefix of the throwaway sandboxes the log is read on. */
    public static final String VIEW_PREFIX = "log-view-";
    private static final String NOT_RUNNING = "server not running";

    private final DatabaseAdapter adapter;
    private final Map<String, String> mounts;
    private final String source;
    private final View view;

    private record View(DataDir data, String setName, String name, long seq, ExportMounts mounts) {
    }

    private DatabaseLog(DatabaseAdapter adapter, Map<String, String> mounts, String source, View view) {
        this.adapter = adapter;
        this.mounts = Map.copyOf(mounts);
        this.source = source;
        this.view = view;
    }

    /**
     * The log of {@code a}'s database on {@code set}: the server's when it answers and no
     * {@code mountDir} is given, else its files (see the class comment); a RewindException
     * saying what to do when neither can be read.
     */
    public static DatabaseLog open(DataDir data, CapturedSet set, DatabaseAttachment a, Path mountDir) throws IOException {
        Engine engine = Engine.ofLabel(a.engine());
        if (engine == Engine.H2) {
            if (mountDir != null) {
                throw new MalformedValueException("--mount reads a database server's log files; H2 keeps none: leave --mount out");
            }
            return new DatabaseLog(AttachedDatabase.open(a), a.mounts(), null, null);
        }
        Path mounted = mountDir == null ? null : data.resolve(mountDir);
        if (mounted != null && !Files.isDirectory(mounted)) {
            throw new MalformedValueException("--mount " + mountDir + ": no such directory; give the directory where the file system "
                    + "holding the database's data dir is mounted");
        }
        String whyNot = null;
        if (mountDir == null) {
            DatabaseAdapter server = AttachedDatabase.open(a);
            try {
                server.checkConnection();
                return new DatabaseLog(server, a.mounts(), null, null);
            } catch (RewindException e) {
                server.close();
                whyNot = e.getMessage();
            }
        }
        Map<String, String> settings = data.catalog().databases().serverSettings(a.setName());
        String dataDirSetting = settings.get(engine == Engine.POSTGRESQL ? "data_directory" : "datadir");
        if (dataDirSetting == null) {
            throw new RewindException((whyNot == null ? "" : "the database does not answer (" + whyNot + ") and ") + "the database's data "
                    + "dir was not recorded while it ran; start the database (rewind db attach " + a.setName() + " again while it runs records it)");
        }
        Path dataDir = Path.of(dataDirSetting);
        Map<String, Path> production = new LinkedHashMap<>();
        a.mounts().forEach((member, dir) -> production.put(member, Path.of(dir).toAbsolutePath().normalize()));
        Optional<String> member = memberHolding(production, dataDir);
        String log = engine == Engine.POSTGRESQL ? "WAL" : "binlog";
        if (mountDir != null) {
            Path dir = mounted;
            String m = member.orElseThrow(() -> new RewindException("no member's mount recorded at attach holds the data dir " + dataDir
                    + "; attach again with --mount MEMBER=DIR for the member that holds it"));
            Map<String, Path> readable = new LinkedHashMap<>(production);
            readable.put(m, dir);
            LogFiles files = new LogFiles(production, readable, settings, "the mounted data dir " + here(production, m, dir, dataDir)
                    + " (--mount; the server is not asked)");
            return offline(a, files, log, null);
        }
        if (member.isPresent() && Files.isDirectory(dataDir) && holdsData(engine, dataDir)) {
            LogFiles files = new LogFiles(production, production, settings, "the mounted data dir " + dataDir + " (" + NOT_RUNNING + ")");
            return offline(a, files, log, null);
        }
        DataDir.Daemon daemon = data.daemon();
        if (daemon == null || member.isEmpty()) {
            throw new RewindException("the database does not answer" + because(whyNot) + " and its data dir " + dataDir + " is not mounted "
                    + "here; start the database, or pass --mount DIR where the file system that holds it is mounted"
                    + (member.isEmpty() ? " (and attach with --mount MEMBER=DIR so that Rewind knows its member)"
                    : " (or run rewind serve, so that the log is read from a view of the set)"));
        }
        View view = mountView(data, daemon, set);
        try {
            LogFiles files = new LogFiles(production, view.mounts().mountDirs(), settings, "a read-only view of seq "
                    + view.seq() + " (" + NOT_RUNNING + ")");
            return offline(a, files, log, view);
        } catch (RuntimeException e) {
            tearDown(view, e);
            throw e;
        }
    }

    /** The adapter that reads the log; the server's or one reading the files. */
    public DatabaseAdapter adapter() {
        return adapter;
    }

    /** Member name to the dir its file system is read at: the attachment's mounts, or the view's. */
    public Map<String, String> mounts() {
        return mounts;
    }

    /** {@code read WAL from a read-only view of seq 42 (server not running)}; empty when the server answered. */
    public Optional<String> source() {
        return Optional.ofNullable(source);
    }

    /** Closes the adapter; a view is unmounted and its sandbox dropped. */
    @Override
    public void close() throws IOException {
        try {
            adapter.close();
        } finally {
            if (view != null) {
                tearDown(view, null);
            }
        }
    }

    private static DatabaseLog offline(DatabaseAttachment a, LogFiles files, String log, View view) {
        return new DatabaseLog(Adapters.open(a, files), files.readableMounts(), "read " + log + " from " + files.source(), view);
    }

    private static View mountView(DataDir data, DataDir.Daemon daemon, CapturedSet set) throws IOException {
        Sandboxes sandboxes = data.sandboxes();
        long seq = set.lastSeq();
        Set<String> used = sandboxes.list(set.name()).stream().map(SandboxRecord::name).collect(Collectors.toSet());
        String name = VIEW_PREFIX + seq;
        for (int i = 2; used.contains(name); i++) {
            name = VIEW_PREFIX + seq + "-" + i;
        }
        String sandbox = name;
        sandboxes.create(set, sandbox, seq, Long.toString(seq));
        List<String> members = SandboxDatabases.memberNames(data, set.name());
        Path workDir = SandboxDatabases.workDir(data, set.name(), sandbox);
        try {
            ExportMounts mounts = ExportMounts.mount(workDir, SandboxDatabases.RUN_ROOT, members,
                    m -> daemon.nbdUri(ExportMounts.sandboxExport(set.name(), m, sandbox)), true);
            return new View(data, set.name(), sandbox, seq, mounts);
        } catch (IOException | RuntimeException e) {
            tearDown(new View(data, set.name(), sandbox, seq, null), e);
            throw e;
        }
    }

    /** Unmounts the view and drops its sandbox; what fails is thrown, or added to {@code failure} when there is one. */
    private static void tearDown(View view, Throwable failure) throws IOException {
        RewindException left = null;
        List<String> members = SandboxDatabases.memberNames(view.data(), view.setName());
        Path workDir = SandboxDatabases.workDir(view.data(), view.setName(), view.name());
        try {
            if (view.mounts() != null) {
                view.mounts().unmount();
            }
        } catch (IOException | RuntimeException e) {
            ExportMounts.forceUnmount(workDir, members);
        }
        try {
            view.data().sandboxes().drop(view.setName(), view.name());
            SandboxDatabases.forget(view.data(), view.setName(), view.name());
        } catch (IOException | RuntimeException e) {
            left = new RewindException("cannot drop sandbox " + view.name() + " (the view the log was read on): " + e.getMessage()
                    + "; run: rewind sandbox drop " + view.setName() + " " + view.name() + " --force", e);
        }
        if (left != null) {
            if (failure != null) {
                failure.addSuppressed(left);
            } else {
                throw left;
            }
        }
    }

    private static Optional<String> memberHolding(Map<String, Path> production, Path path) {
        Path p = path.toAbsolutePath().normalize();
        return production.entrySet().stream().filter(e -> p.startsWith(e.getValue()))
                .max(Comparator.comparingInt(e -> e.getValue().getNameCount())).map(Map.Entry::getKey);
    }

    private static Path here(Map<String, Path> production, String member, Path readable, Path dataDir) {
        return readable.resolve(production.get(member).relativize(dataDir.toAbsolutePath().normalize()).toString());
    }

    /** Whether {@code dataDir} holds the database's files (not an empty mount point): PG_VERSION, or anything for MariaDB. */
    private static boolean holdsData(Engine engine, Path dataDir) throws IOException {
        if (engine == Engine.POSTGRESQL) {
            return Files.isRegularFile(dataDir.resolve("PG_VERSION"));
        }
        try (var files = Files.list(dataDir)) {
            return files.findAny().isPresent();
        }
    }

    private static String because(String whyNot) {
        return whyNot == null ? "" : " (" + whyNot + ")";
    }
}
