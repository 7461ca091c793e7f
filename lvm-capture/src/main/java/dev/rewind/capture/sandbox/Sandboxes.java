package dev.rewind.capture.sandbox;

import dev.rewind.volumeset.io.PrivateFiles;
import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CapturedSet;
import dev.rewind.increments.restore.SetHistory;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.SandboxRecord;
import dev.rewind.volumeset.catalog.SandboxRecords;
import dev.rewind.volumeset.io.DurableFiles;
import dev.rewind.volumeset.io.StableFileChannel;
import dev.rewind.volumeset.manager.VolumeManager;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every sandbox of one data dir: created, listed, opened for serving and dropped. A sandbox
 * is its directory and its catalog row:
 *
 * <pre>
 *   &lt;root&gt;/                         as private as the data dir it is in
 *     .lock                          held while sandboxes are created, dropped or reconciled
 *     &lt;set&gt;/
 *       &lt;name&gt;/                     owner-only
 *         sandbox.properties         set, set uuid, name, seq, point (for a person reading the dir)
 *         &lt;member&gt;.data, .map      the member's overlay ({@link SandboxOverlay})
 *       .&lt;name&gt;.creating-N/        a sandbox being created: renamed to &lt;name&gt; when whole
 *       .&lt;name&gt;.dropping-N/        a dropped sandbox being deleted
 * </pre>
 *
 * Creating makes the directory whole under a temporary name, renames it, then inserts the
 * row; dropping deletes the row, then renames the directory away and deletes it. So after a
 * crash a directory without a row, a row without a directory and any temporary directory are
 * leftovers of one of the two, and {@link #open(Path, Catalog)} removes them: a sandbox exists
 * whole or not at all. Sandboxes opened for serving stay open until dropped or closed here.
 */
public final class Sandboxes implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Sandboxes.class);
    private static final String PROPERTIES = "sandbox.properties";
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");
    /** One lock per root in this JVM: file locks do not exclude threads of the same process. */
    private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private final Path root;
    private final SandboxRecords records;
    private final Clock clock;
    private final Map<String, Sandbox> opened = new HashMap<>();

    private Sandboxes(Path root, SandboxRecords records, Clock clock) {
        this.root = root;
        this.records = records;
        this.clock = clock;
    }

    /** The sandboxes under {@code root}; removes what a crash left half created or half dropped. */
    public static Sandboxes open(Path root, Catalog catalog) throws IOException {
        return open(root, catalog, Clock.systemUTC());
    }

    public static Sandboxes open(Path root, Catalog catalog, Clock clock) throws IOException {
        Path abs = root.toAbsolutePath().normalize();
        Sandboxes s = new Sandboxes(abs, catalog.sandboxes(), clock);
        if (Files.isDirectory(abs)) { // made by the first create: until then there is nothing to reconcile
            s.locked(() -> {
                s.reconcile();
                return null;
            });
        }
        return s;
    }

    public Path root() {
        return root;
    }

    /**
     * Creates sandbox {@code name} of {@code set} at {@code seq} ({@code point} is the point as
     * the user wrote it). Durable and whole when it returns. Refuses a malformed name, a name in
     * use, a seq the set cannot bring back; nothing is left behind then. Reads nothing of the
     * history: the sandbox's point-in-time map is built when it is first read.
     */
    public SandboxRecord create(CapturedSet set, String name, long seq, String point) throws IOException {
        VolumeManager.checkName("sandbox", name);
        set.checkRestorable(seq);
        pinHistory(set);
        if (records.find(set.name(), name).isPresent()) {
            throw nameInUse(set.name(), name);
        }
        return locked(() -> {
            if (records.find(set.name(), name).isPresent()) {
                throw nameInUse(set.name(), name);
            }
            Path setDir = directory(root.resolve(set.name()));
            Path dir = setDir.resolve(name);
            if (Files.exists(dir)) {
                deleteTree(dir); // no row names it (checked above, under the lock): a leftover
            }
            Path tmp = setDir.resolve("." + name + ".creating-" + System.nanoTime());
            SandboxRecord record = new SandboxRecord(set.name(), name, seq, point, Times.micros(clock.instant()), dir.toString(),
                    null, null);
            try {
                Files.createDirectory(tmp, PosixFilePermissions.asFileAttribute(PRIVATE));
                DurableFiles.writeAtomically(tmp.resolve(PROPERTIES), properties(set, record), true);
                for (BlockDevice d : set.devices()) {
                    SandboxOverlay.create(tmp, d.name());
                }
                DurableFiles.forceDirectory(tmp);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                DurableFiles.forceDirectory(setDir);
                records.insert(record);
            } catch (IOException | RuntimeException e) {
                deleteTree(tmp);
                if (records.find(set.name(), name).isEmpty()) {
                    deleteTree(dir);
                }
                throw e;
            }
            LOG.info("set {}: sandbox {} created at seq {} ({})", set.name(), name, seq, point);
            return record;
        });
    }

    /** Makes the set keep the history its sandboxes read (however the set was opened). */
    private void pinHistory(CapturedSet set) {
        String name = set.name();
        set.historyPins(() -> records.historyPins(name));
    }

    private static RewindException nameInUse(String setName, String name) {
        return new RewindException("set " + setName + " already has a sandbox named " + name
                + "; choose another name, or drop it first (rewind sandbox drop " + setName + " " + name + ")");
    }

    private static byte[] properties(CapturedSet set, SandboxRecord r) throws IOException {
        Properties p = new Properties();
        p.setProperty("set", r.setName());
        p.setProperty("set.uuid", set.uuid().toString());
        p.setProperty("name", r.name());
        p.setProperty("seq", Long.toString(r.seq()));
        p.setProperty("point", r.point());
        p.setProperty("created", Times.format(Times.ofMicros(r.createdAtMicros())));
        StringWriter w = new StringWriter();
        p.store(w, "Rewind sandbox: writes to set " + r.setName() + " as it was at seq " + r.seq() + " land here, never in the set");
        return w.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The sandboxes of one set, or of all (null). */
    public List<SandboxRecord> list(String setNameOrNull) {
        return records.list(setNameOrNull);
    }

    /** The sandbox, or a {@link RewindException} saying there is none. */
    public SandboxRecord find(String setName, String name) {
        return records.find(setName, name).orElseThrow(() -> new RewindException("set " + setName + " has no sandbox named "
                + name + " ('rewind sandbox list " + setName + "' shows its sandboxes)"));
    }

    /**
     * The sandbox opened for reading and writing, shared by all callers: opened at the first
     * call, it stays open until dropped or until these sandboxes close. {@code set} must be the
     * open set the sandbox belongs to.
     */
    public synchronized Sandbox open(CapturedSet set, String name) throws IOException {
        String key = Sandbox.clientKey(set.name(), name);
        Sandbox s = opened.get(key);
        if (s != null) {
            return s;
        }
        SandboxRecord record = find(set.name(), name);
        Path dir = Path.of(record.dir());
        if (!Files.isDirectory(dir)) {
            throw new RewindException("the overlay of sandbox " + name + " of set " + set.name() + " is missing (" + dir
                    + "); drop it (rewind sandbox drop " + set.name() + " " + name + ")");
        }
        pinHistory(set);
        SetHistory.PastView past = set.pastView(record.seq());
        List<SandboxOverlay> overlays = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        try {
            for (BlockDevice d : set.devices()) {
                overlays.add(SandboxOverlay.open(dir, d.name()));
                names.add(d.name());
                sizes.add(d.sizeBytes());
            }
        } catch (IOException | RuntimeException e) {
            for (SandboxOverlay o : overlays) {
                o.close();
            }
            throw e;
        }
        s = new Sandbox(record, past, names, sizes, overlays);
        opened.put(key, s);
        return s;
    }

    /** The bytes the sandbox's writes hold, over all members. */
    public long overlayBytes(SandboxRecord sandbox) throws IOException {
        synchronized (this) {
            Sandbox s = opened.get(Sandbox.clientKey(sandbox.setName(), sandbox.name()));
            if (s != null) {
                return s.overlayBytes();
            }
        }
        Path dir = Path.of(sandbox.dir());
        long total = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path map : files.filter(p -> p.getFileName().toString().endsWith(SandboxOverlay.MAP_SUFFIX)).toList()) {
                String file = map.getFileName().toString();
                try (SandboxOverlay o = SandboxOverlay.open(dir, file.substring(0, file.length() - SandboxOverlay.MAP_SUFFIX.length()))) {
                    total += o.writtenBytes();
                }
            }
        }
        return total;
    }

    /** Whether the sandbox is open here (being served). */
    public synchronized boolean isOpen(String setName, String name) {
        return opened.containsKey(Sandbox.clientKey(setName, name));
    }

    /**
     * Drops the sandbox: its row and its overlay are gone when this returns. Users still holding
     * it get an error that says it was dropped on every later request.
     */
    public void drop(String setName, String name) throws IOException {
        find(setName, name);
        locked(() -> {
            SandboxRecord record = find(setName, name);
            records.delete(setName, name);
            Sandbox s;
            synchronized (this) {
                s = opened.remove(Sandbox.clientKey(setName, name));
            }
            if (s != null) {
                try {
                    s.shut("sandbox " + name + " of set " + setName + " was dropped");
                } catch (IOException e) {
                    LOG.warn("set {}: closing dropped sandbox {}: {}", setName, name, e.toString());
                }
            }
            removeDirectory(Path.of(record.dir()));
            LOG.info("set {}: sandbox {} dropped", setName, name);
            return null;
        });
    }

    /** Renames a sandbox directory away (atomically, durably) and deletes it. */
    private static void removeDirectory(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Path doomed = dir.resolveSibling("." + dir.getFileName() + ".dropping-" + System.nanoTime());
        Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
        DurableFiles.forceDirectory(dir.getParent());
        deleteTree(doomed);
    }

    /** Makes directory and catalog agree: see the class comment. Called with the lock held. */
    private void reconcile() throws IOException {
        Map<String, SandboxRecord> rows = new HashMap<>();
        for (SandboxRecord r : records.list(null)) {
            rows.put(Path.of(r.dir()).toAbsolutePath().normalize().toString(), r);
        }
        try (Stream<Path> setDirs = Files.list(root)) {
            for (Path setDir : setDirs.filter(Files::isDirectory).toList()) {
                try (Stream<Path> entries = Files.list(setDir)) {
                    for (Path entry : entries.toList()) {
                        String file = entry.getFileName().toString();
                        if (file.startsWith(".") || !rows.containsKey(entry.toAbsolutePath().normalize().toString())) {
                            LOG.warn("removing {}: a sandbox left half created or half dropped", entry);
                            deleteTree(entry);
                        }
                    }
                }
            }
        }
        for (SandboxRecord r : rows.values()) {
            if (r.dir().startsWith(root.toString()) && !Files.isDirectory(Path.of(r.dir()))) {
                LOG.warn("set {}: forgetting sandbox {}: its directory {} is gone", r.setName(), r.name(), r.dir());
                records.delete(r.setName(), r.name());
            }
        }
    }

    /** Flushes and closes every open sandbox; the sandboxes stay, for the next open. */
    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        for (Sandbox s : opened.values()) {
            try {
                s.flush();
                s.shut("sandbox " + s.record().name() + " of set " + s.record().setName() + " is closed: rewind serve is stopping");
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        opened.clear();
        if (first != null) {
            throw first;
        }
    }

    private interface LockedWork<T> {
        T run() throws IOException;
    }

    /** Runs {@code work} holding the root's lock, against this JVM's threads and other processes. */
    private <T> T locked(LockedWork<T> work) throws IOException {
        directory(root);
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(root, r -> new ReentrantLock());
        jvmLock.lock();
        try (FileChannel c = PrivateFiles.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = c.lock()) {
            return work.run();
        } finally {
            jvmLock.unlock();
        }
    }

    /** Creates {@code dir} durably if it is missing (with the access of the directory it is made in). */
    private static Path directory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            DurableFiles.createDirectories(dir);
        }
        return dir;
    }

    /**
     * Deletes a directory tree, refusing to go into a file system mounted inside it (a
     * sandbox's database mounts its members there while it runs): those must be unmounted first.
     */
    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object device = Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS);
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = walk.toList();
            for (Path p : all) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                        && !device.equals(Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS))) {
                    throw new IOException(p + " is a mount point inside sandbox directory " + dir + "; unmount it first (umount " + p + ")");
                }
            }
            for (Path p : all.stream().sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
