package dev.rewind.cli.datadir;

import dev.rewind.capture.BookmarkLookup;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.sandbox.Sandboxes;
import dev.rewind.scheduler.ScheduledJob;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.CatalogConfig;
import dev.rewind.volumeset.io.DurableFiles;
import dev.rewind.volumeset.io.FileAccess;
import dev.rewind.volumeset.io.PrivateFiles;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * The data dir: {@code rewind.properties} (where the catalog is, and the group that may read
 * what Rewind keeps, if any), the default H2 catalog, and the default secondaries under
 * {@code sets/}. Opens the catalog lazily, once.
 *
 * <p>Everything in it is private ({@link PrivateFiles}): the directory 0700 and its files 0600,
 * or 0750/0640 with the group of {@code rewind init --group NAME}, whatever the umask. A data
 * dir that other users can write is refused at open; one they can read gets a warning.
 */
public final class DataDir implements AutoCloseable {
    static final String CONFIG_FILE = "rewind.properties";
    static final String PASSWORD_ENV = "REWIND_CATALOG_PASSWORD";
    /** The property naming the group that may read the data dir and the secondaries. */
    static final String GROUP_PROPERTY = "access.group";
    /** The directory of the default H2 catalog ({@link CatalogConfig#h2In}). */
    private static final String H2_CATALOG_DIR = "catalog";

    /** What a running daemon lends the commands it runs: its open sets and its NBD connections. */
    public interface Daemon {
        /** The daemon's open set, retained for the caller (close it when done). */
        CapturedSet openSet(String name);

        int connectionCount(String setName);

        /** The NBD clients in transmission on the set's exports, its past ones included (a sandbox's are the sandbox's), by export name. */
        List<dev.rewind.capture.nbd.NbdServer.Client> nbdClients(String setName);

        /**
         * Refuses new NBD connections to the set's exports until the returned handle is closed;
         * with {@code dropClients}, connected clients are disconnected too (their in-flight
         * requests finish first).
         */
        AutoCloseable holdOffClients(String setName, boolean dropClients);

        /**
         * Stops serving a set and closes the daemon's hold on it (before it is deleted); refused
         * while NBD clients are connected to it. A set is served again by {@link #openSet}.
         */
        void closeSet(String setName) throws IOException;

        /** Why the set is offline (the daemon could not open it), if it is. */
        Optional<dev.rewind.capture.SetOfflineException> offlineReason(String setName);

        /**
         * Closes the set and opens it again in place, running recovery (every acknowledged write
         * is kept): brings back a set that stopped after an I/O error or that was offline once what
         * stopped it is fixed. Its NBD clients are disconnected and may connect again at once.
         */
        void reopenSet(String setName) throws IOException;

        /**
         * The set's settings changed in the catalog: applies them to the open set at once
         * (cut rules, codec, horizon) and schedules its period cut anew.
         */
        void settingsChanged(String setName) throws IOException;

        /** The scheduler's jobs, of one set or all. */
        List<ScheduledJob> schedule(Optional<String> setName);

        /**
         * The set's attached database changed in the catalog (attached, replaced or detached):
         * restarts sampling its positions and schedules its consistent bookmark anew.
         */
        void databaseChanged(String setName);

        /** Pauses sampling the set's database positions until the returned handle is closed (around a coordinated restore). */
        AutoCloseable pauseSampling(String setName);

        /** The URI an NBD client uses for export {@code exportName}, e.g. {@code nbd://127.0.0.1:10809/shop/data@sandbox:x}. */
        String nbdUri(String exportName);

        /** The daemon's sandboxes (the ones its NBD server serves). */
        Sandboxes sandboxes() throws IOException;

        /** NBD connections open to one sandbox's exports. */
        int sandboxConnectionCount(String setName, String sandboxName);

        /** Disconnects the NBD clients of one sandbox's exports (their in-flight requests finish first). */
        void disconnectSandbox(String setName, String sandboxName);

        /**
         * A service the daemon runs for the commands it runs, by its type (the databases it
         * started on sandboxes: {@code dev.rewind.cli.db.SandboxDatabases}); empty when it runs none
         * of that type. Looked up by type so that this package, which those services use, names
         * none of them.
         */
        <T> Optional<T> service(Class<T> type);
    }

    private final Path dir;
    private final Path workingDir;
    private final Daemon daemon;
    private final boolean ownsCatalog;
    private final Clock clock;
    private Catalog catalog;
    private Sandboxes sandboxes;
    private Properties config;

    public DataDir(Path dir) {
        this(dir, Clock.systemUTC());
    }

    /** The data dir, whose sets read the time from {@code clock} (tests move it instead of waiting). */
    public DataDir(Path dir, Clock clock) {
        this(dir, Path.of("").toAbsolutePath(), null, null, clock);
    }

    /** A data dir as seen by a command the daemon runs for a client in {@code workingDir}, on the daemon's clock. */
    public DataDir(Path dir, Path workingDir, Daemon daemon, Catalog sharedCatalog, Clock clock) {
        this.dir = workingDir.resolve(dir).toAbsolutePath().normalize();
        this.workingDir = workingDir;
        this.daemon = daemon;
        this.catalog = sharedCatalog;
        this.ownsCatalog = sharedCatalog == null;
        this.clock = clock;
    }

    /**
     * Where the commands and the sets they open read the time: write times, cuts, the
     * every-write horizon, bookmarks, "now" for a restore to a time.
     */
    public Clock clock() {
        return clock;
    }

    /** A path the user gave, resolved against the user's working directory. */
    public Path resolve(Path path) {
        return workingDir.resolve(path).toAbsolutePath().normalize();
    }

    /** The daemon running the command, or null when the command opened the data dir itself. */
    public Daemon daemon() {
        return daemon;
    }

    public Path path() {
        return dir;
    }

    public boolean isInitialized() {
        return Files.exists(dir.resolve(CONFIG_FILE));
    }

    /** The default secondary directory of a set. */
    public Path defaultSecondary(String setName) {
        return dir.resolve("sets").resolve(setName);
    }

    /**
     * Creates the data dir and its catalog. The catalog is reached first, so a bad URL
     * leaves nothing behind.
     */
    public Catalog initialize(String catalogUrl, String catalogUser) {
        return initialize(catalogUrl, catalogUser, FileAccess.OWNER_ONLY);
    }

    /** Like {@link #initialize(String, String)}, with the access everything Rewind creates here gets. */
    public Catalog initialize(String catalogUrl, String catalogUser, FileAccess access) {
        if (isInitialized()) {
            throw new RewindException("data dir " + dir + " is already initialized; use it, or give another --data");
        }
        CatalogConfig config = catalogUrl == null
                ? CatalogConfig.h2In(dir)
                : new CatalogConfig(catalogUrl, catalogUser, System.getenv(PASSWORD_ENV), Duration.ofSeconds(5));
        boolean existed = Files.exists(dir);
        if (existed && !Files.isDirectory(dir)) {
            throw new RewindException(dir + " exists and is not a directory");
        }
        if (existed) {
            checkPrivate();
        }
        access.groupName().ifPresent(DataDir::checkGroupExists);
        if (!config.isH2()) {
            catalog = Catalog.open(config);
        }
        try {
            if (existed) {
                PrivateFiles.restrict(dir, access, true); // an existing directory given for it becomes Rewind's own
            } else {
                DurableFiles.createDirectories(dir, access);
            }
            if (catalog == null) {
                catalog = Catalog.open(config);
                restrictH2Catalog();
                DurableFiles.forceDirectory(dir.resolve(H2_CATALOG_DIR)); // H2 does not force the entry of the file it creates
            }
            Properties p = new Properties();
            access.groupName().ifPresent(g -> p.setProperty(GROUP_PROPERTY, g));
            p.setProperty("catalog.url", config.jdbcUrl());
            if (config.user() != null) {
                p.setProperty("catalog.user", config.user());
            }
            StringWriter text = new StringWriter();
            p.store(text, "Rewind data dir; the catalog password, if any, comes from $" + PASSWORD_ENV);
            // Written last, and durably with every entry before it: a data dir with this file is complete.
            DurableFiles.writeAtomically(dir.resolve(CONFIG_FILE), text.toString().getBytes(StandardCharsets.UTF_8), true);
            return catalog;
        } catch (IOException | RuntimeException e) {
            if (catalog != null) {
                catalog.close();
                catalog = null;
            }
            if (!existed) {
                deleteTree(dir);
            }
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot create data dir " + dir + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    public Catalog catalog() {
        if (catalog == null) {
            if (!isInitialized()) {
                throw new RewindException("no Rewind data dir at " + dir + "; run 'rewind init' first, or give --data DIR");
            }
            checkPrivate();
            Properties p = config();
            String url = p.getProperty("catalog.url");
            String password = System.getenv(PASSWORD_ENV);
            catalog = Catalog.open(new CatalogConfig(url, p.getProperty("catalog.user"), password == null ? "" : password,
                    Duration.ofSeconds(5)));
            restrictH2Catalog();
        }
        return catalog;
    }

    /** rewind.properties, read once. */
    private Properties config() {
        if (config == null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(dir.resolve(CONFIG_FILE), StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + dir.resolve(CONFIG_FILE) + ": " + e.getMessage(), e);
            }
            config = p;
        }
        return config;
    }

    /** Who may read what Rewind creates for this data dir: its owner, and the group of {@code rewind init --group} if one was given. */
    public FileAccess access() {
        if (!isInitialized()) {
            return FileAccess.OWNER_ONLY;
        }
        String group = config().getProperty(GROUP_PROPERTY);
        return group == null || group.isBlank() ? FileAccess.OWNER_ONLY : FileAccess.group(group.strip());
    }

    /** Refuses a data dir others can write; warns about one they can read. */
    private void checkPrivate() {
        try {
            PrivateFiles.checkPrivate(dir, "data dir");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the mode of " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void checkGroupExists(String group) {
        try {
            java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        } catch (IOException e) {
            throw new RewindException("group '" + group + "' does not exist; create it first (groupadd " + group + ") or give another --group");
        }
    }

    /** The files H2 makes in the default catalog dir get the data dir's modes (H2 makes them as the umask says). */
    private void restrictH2Catalog() {
        Path h2 = dir.resolve(H2_CATALOG_DIR);
        if (!Files.isDirectory(h2)) {
            return;
        }
        try {
            PrivateFiles.restrictLikeParent(h2, true);
            PrivateFiles.restrictTree(h2);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the catalog in " + h2 + " private: " + e.getMessage(), e);
        }
    }

    public VolumeManager volumes() {
        return new VolumeManager(catalog(), access());
    }

    public CapturedSet openSet(String name) throws IOException {
        if (daemon != null) {
            volumes().findSet(name);
            return daemon.openSet(name);
        }
        volumes().findSet(name);
        return CatalogCapture.open(catalog(), name, CaptureOptions.DEFAULT.checkpointInterval(), clock);
    }

    /** Where the sandboxes of this data dir keep their overlays. */
    public static Path sandboxRoot(Path dataDir) {
        return dataDir.resolve("sandboxes");
    }

    /** The sandboxes: the daemon's when one runs this command, else opened here (once). */
    public Sandboxes sandboxes() throws IOException {
        if (daemon != null) {
            return daemon.sandboxes();
        }
        if (sandboxes == null) {
            sandboxes = Sandboxes.open(sandboxRoot(dir), catalog(), clock);
        }
        return sandboxes;
    }

    /** The catalog's bookmarks, as {@link dev.rewind.capture.PointResolver} looks them up. */
    public static BookmarkLookup bookmarkLookup(Catalog catalog) {
        return new BookmarkLookup() {
            @Override
            public OptionalLong seqOf(String setName, String bookmark) {
                return catalog.findBookmark(setName, bookmark).map(BookmarkRecord::seq).map(OptionalLong::of).orElse(OptionalLong.empty());
            }

            @Override
            public java.util.List<Bookmark> list(String setName) {
                return catalog.listBookmarks(setName).stream()
                        .map(b -> new Bookmark(b.name(), b.seq(), java.time.Instant.EPOCH.plus(b.createdAtMicros(), java.time.temporal.ChronoUnit.MICROS),
                                b.consistent()))
                        .sorted(java.util.Comparator.comparingLong(Bookmark::seq))
                        .toList();
            }
        };
    }

    @Override
    public void close() {
        if (sandboxes != null) {
            try {
                sandboxes.close();
            } catch (IOException e) {
                System.err.println("rewind: closing sandboxes: " + e.getMessage());
            }
            sandboxes = null;
        }
        if (catalog != null && ownsCatalog) {
            catalog.close();
            catalog = null;
        }
    }

    /** Deletes a directory tree, best effort (for cleaning up after a failure). */
    public static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // best effort: the error that brought us here matters more
        }
    }
}
