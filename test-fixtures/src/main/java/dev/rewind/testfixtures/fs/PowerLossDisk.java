package dev.rewind.testfixtures.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.spi.FileSystemProvider;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One directory tree under the power-loss file system: a disk whose power tests can cut.
 *
 * <p>The real files hold what the OS page cache would hold. Beside them this keeps, in memory,
 * what the disk holds durably: per file (an identity that follows the inode through renames)
 * its pages and size as of its last {@code force}, and per directory its entries as of its
 * last {@code force}. {@link #powerCut} stops all I/O on the tree (every open channel and every
 * later operation fails until {@link #restart}), then rebuilds the tree from the durable state:
 * unforced writes are lost (or, with {@link Survival#SOME_PAGES}, some dirty pages reach the disk
 * whole or torn at a sector, as write-back may do), and a directory entry not covered by a
 * {@code force} of its directory vanishes, with everything below it.
 *
 * <p>A {@link FaultPlan} makes one chosen write or force fail. A failed force loses the file's
 * dirty pages for good, as Linux does after an fsync error: a later force succeeds without them.
 */
public final class PowerLossDisk implements AutoCloseable {
    static final int PAGE_BYTES = 4096;
    static final int SECTOR_BYTES = 512;

    /** What happens to writes that were not forced when the power goes. */
    public enum Survival { NONE, SOME_PAGES }

    private record Entry(long identity, boolean directory) {
    }

    private static final class DurableFile {
        final TreeMap<Long, byte[]> pages = new TreeMap<>();
        long sizeBytes;
    }

    private final Path root;
    private final Consumer<PowerLossDisk> onClose;
    private final Map<Object, Long> identityByKey = new HashMap<>();
    private final Map<Long, DurableFile> durableFiles = new HashMap<>();
    private final Map<Long, Map<String, Entry>> durableDirs = new HashMap<>();
    private final Map<Long, Set<Long>> dirtyPages = new HashMap<>();
    private long nextIdentity = 1;
    private long rootIdentity;
    private volatile int generation;
    private volatile boolean powerOn = true;
    private FaultPlan faults;
    private long cuts;

    PowerLossDisk(Path root, Consumer<PowerLossDisk> onClose) throws IOException {
        this.root = root;
        this.onClose = onClose;
        synchronized (this) {
            adoptTreeAsDurable();
        }
    }

    Path root() {
        return root;
    }

    /** Sets (or clears, with null) the plan of the I/O that fails. */
    public synchronized void injectFaults(FaultPlan plan) {
        this.faults = plan;
    }

    // ---- used by the provider and the channels ----

    int generation() {
        return generation;
    }

    void checkPowerOn(Path real) throws IOException {
        if (!powerOn) {
            throw new IOException("power is off (simulated power loss): " + real);
        }
    }

    synchronized TrackedFileChannel open(FileSystemProvider builtin, Path real, Set<? extends OpenOption> options,
                                         FileAttribute<?>... attrs) throws IOException {
        checkPowerOn(real);
        boolean creating = options.contains(StandardOpenOption.CREATE) || options.contains(StandardOpenOption.CREATE_NEW);
        boolean existed = Files.exists(real, LinkOption.NOFOLLOW_LINKS);
        Set<OpenOption> opts = new HashSet<>(options);
        boolean writable = opts.contains(StandardOpenOption.WRITE) || opts.contains(StandardOpenOption.APPEND);
        if (writable && !opts.contains(StandardOpenOption.APPEND)) {
            opts.add(StandardOpenOption.READ); // so that a force can read back what it makes durable
        }
        boolean directory = Files.isDirectory(real);
        FileChannel delegate = builtin.newFileChannel(real, opts, attrs);
        long identity;
        if (creating && !existed) {
            identity = newIdentity(real);
        } else {
            identity = identityOf(real);
        }
        if (opts.contains(StandardOpenOption.TRUNCATE_EXISTING) && writable) {
            dirtyPages.computeIfAbsent(identity, k -> new TreeSet<>()).add(0L);
        }
        return new TrackedFileChannel(this, real, delegate, identity, directory, generation);
    }

    synchronized void createDirectory(FileSystemProvider builtin, Path real, FileAttribute<?>... attrs) throws IOException {
        checkPowerOn(real);
        builtin.createDirectory(real, attrs);
        newIdentity(real);
    }

    synchronized void copy(FileSystemProvider builtin, Path source, Path target, CopyOption... options) throws IOException {
        checkPowerOn(target);
        builtin.copy(source, target, options);
        long id = newIdentity(target);
        long pages = (Files.size(target) + PAGE_BYTES - 1) / PAGE_BYTES;
        Set<Long> dirty = dirtyPages.computeIfAbsent(id, k -> new TreeSet<>());
        for (long p = 0; p < pages; p++) {
            dirty.add(p);
        }
    }

    /** Called with this disk locked, before a write reaches the real file. */
    void beforeWrite(TrackedFileChannel c, long positionBytes, long lengthBytes) throws IOException {
        c.checkAlive();
        if (faults != null) {
            faults.check(FaultPlan.Operation.WRITE, c.path());
        }
        if (lengthBytes <= 0) {
            return;
        }
        Set<Long> dirty = dirtyPages.computeIfAbsent(c.identity(), k -> new TreeSet<>());
        for (long p = positionBytes / PAGE_BYTES; p <= (positionBytes + lengthBytes - 1) / PAGE_BYTES; p++) {
            dirty.add(p);
        }
    }

    /** Called with this disk locked, before a truncate reaches the real file. */
    void beforeTruncate(TrackedFileChannel c, long sizeBytes) throws IOException {
        c.checkAlive();
        if (faults != null) {
            faults.check(FaultPlan.Operation.WRITE, c.path());
        }
        dirtyPages.computeIfAbsent(c.identity(), k -> new TreeSet<>()).add(sizeBytes / PAGE_BYTES);
    }

    synchronized void force(TrackedFileChannel c) throws IOException {
        c.checkAlive();
        if (faults != null) {
            try {
                faults.check(FaultPlan.Operation.FORCE, c.path());
            } catch (IOException e) {
                dirtyPages.remove(c.identity()); // written back and failed: marked clean, never on the disk
                throw e;
            }
        }
        if (c.isDirectory()) {
            durableDirs.put(c.identity(), listing(c.path()));
            return;
        }
        DurableFile d = durableFiles.computeIfAbsent(c.identity(), k -> new DurableFile());
        FileChannel in = c.delegate();
        d.sizeBytes = in.size();
        Set<Long> dirty = dirtyPages.remove(c.identity());
        if (dirty != null) {
            for (long p : dirty) {
                storePage(d, p, readPage(in, p));
            }
        }
        d.pages.tailMap((d.sizeBytes + PAGE_BYTES - 1) / PAGE_BYTES, true).clear();
        trimLastPage(d);
    }

    // ---- power ----

    /**
     * Cuts the power: from now on every channel opened before fails and every operation on the
     * tree fails until {@link #restart}; the tree on disk is rebuilt from what was durable.
     */
    public synchronized void powerCut(Random random, Survival survival) throws IOException {
        powerOn = false;
        generation++;
        cuts++;
        Map<Long, Path> live = liveFiles();
        Map<Long, DurableFile> contents = new HashMap<>();
        collect(rootIdentity, random, survival, live, contents);
        deleteBelow(root);
        rebuild(rootIdentity, root, contents);
        identityByKey.clear();
        durableFiles.clear();
        durableDirs.clear();
        dirtyPages.clear();
        adoptTreeAsDurable();
    }

    /** Turns the power back on: the tree holds what survived the cut. */
    public synchronized void restart() {
        powerOn = true;
    }

    /** How many cuts this disk has seen. */
    public synchronized long cuts() {
        return cuts;
    }

    @Override
    public void close() {
        onClose.accept(this);
    }

    // ---- internals ----

    private long newIdentity(Path real) throws IOException {
        long id = nextIdentity++;
        identityByKey.put(fileKey(real), id);
        return id;
    }

    private long identityOf(Path real) throws IOException {
        Object key = fileKey(real);
        Long id = identityByKey.get(key);
        if (id == null) {
            id = nextIdentity++;
            identityByKey.put(key, id);
        }
        return id;
    }

    private static Object fileKey(Path real) throws IOException {
        return Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    private Map<String, Entry> listing(Path dir) throws IOException {
        Map<String, Entry> entries = new LinkedHashMap<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                entries.put(p.getFileName().toString(), new Entry(identityOf(p), Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)));
            }
        }
        return entries;
    }

    private static byte[] readPage(FileChannel in, long page) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(PAGE_BYTES);
        long pos = page * PAGE_BYTES;
        while (b.hasRemaining()) {
            int n = in.read(b, pos + b.position());
            if (n < 0) {
                break;
            }
        }
        return b.array();
    }

    private static void storePage(DurableFile d, long page, byte[] content) {
        boolean zero = true;
        for (byte x : content) {
            if (x != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            d.pages.remove(page);
        } else {
            d.pages.put(page, content);
        }
    }

    /** Bytes past the size in the last page are zero on disk. */
    private static void trimLastPage(DurableFile d) {
        long last = d.sizeBytes / PAGE_BYTES;
        byte[] page = d.pages.get(last);
        if (page != null) {
            byte[] copy = page.clone();
            java.util.Arrays.fill(copy, (int) (d.sizeBytes % PAGE_BYTES), PAGE_BYTES, (byte) 0);
            storePage(d, last, copy);
        }
    }

    /** Everything under the root now, as the durable state (at tracking start and after a cut). */
    private void adoptTreeAsDurable() throws IOException {
        rootIdentity = identityOf(root);
        adoptDir(root, rootIdentity);
    }

    private void adoptDir(Path dir, long id) throws IOException {
        Map<String, Entry> entries = listing(dir);
        durableDirs.put(id, entries);
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            Path p = dir.resolve(e.getKey());
            if (e.getValue().directory()) {
                adoptDir(p, e.getValue().identity());
            } else {
                DurableFile d = new DurableFile();
                try (FileChannel in = FileChannel.open(p, StandardOpenOption.READ)) {
                    d.sizeBytes = in.size();
                    for (long page = 0; page * PAGE_BYTES < d.sizeBytes; page++) {
                        storePage(d, page, readPage(in, page));
                    }
                }
                durableFiles.put(e.getValue().identity(), d);
            }
        }
    }

    private Map<Long, Path> liveFiles() throws IOException {
        Map<Long, Path> live = new HashMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    Long id = identityByKey.get(fileKey(p));
                    if (id != null) {
                        live.put(id, p);
                    }
                }
            }
        }
        return live;
    }

    /** What each file reachable through durable directory entries holds after the cut. */
    private void collect(long dirId, Random random, Survival survival, Map<Long, Path> live, Map<Long, DurableFile> out)
            throws IOException {
        for (Entry e : durableDirs.getOrDefault(dirId, Map.of()).values()) {
            if (e.directory()) {
                collect(e.identity(), random, survival, live, out);
                continue;
            }
            if (out.containsKey(e.identity())) {
                continue;
            }
            DurableFile was = durableFiles.get(e.identity());
            DurableFile now = new DurableFile();
            if (was != null) {
                now.sizeBytes = was.sizeBytes;
                now.pages.putAll(was.pages);
            }
            Set<Long> dirty = dirtyPages.get(e.identity());
            Path livePath = live.get(e.identity());
            if (survival == Survival.SOME_PAGES && dirty != null && livePath != null) {
                try (FileChannel in = FileChannel.open(livePath, StandardOpenOption.READ)) {
                    long liveSize = in.size();
                    for (long p : dirty) {
                        int fate = random.nextInt(3);
                        if (fate == 0 || p * PAGE_BYTES >= liveSize) {
                            continue; // lost
                        }
                        byte[] written = readPage(in, p);
                        int keepBytes = fate == 1 ? PAGE_BYTES : SECTOR_BYTES * random.nextInt(PAGE_BYTES / SECTOR_BYTES);
                        byte[] page = now.pages.getOrDefault(p, new byte[PAGE_BYTES]).clone();
                        System.arraycopy(written, 0, page, 0, keepBytes);
                        storePage(now, p, page);
                        long end = Math.min(liveSize, p * PAGE_BYTES + Math.max(keepBytes, 1));
                        now.sizeBytes = Math.max(now.sizeBytes, end);
                    }
                }
                trimLastPage(now);
            }
            out.put(e.identity(), now);
        }
    }

    private static void deleteBelow(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }

    private void rebuild(long dirId, Path dir, Map<Long, DurableFile> contents) throws IOException {
        for (Map.Entry<String, Entry> e : durableDirs.getOrDefault(dirId, Map.of()).entrySet()) {
            Path p = dir.resolve(e.getKey());
            if (e.getValue().directory()) {
                Files.createDirectory(p);
                rebuild(e.getValue().identity(), p, contents);
                continue;
            }
            DurableFile d = contents.get(e.getValue().identity());
            if (Files.exists(p)) {
                continue; // a second link to a file already rebuilt
            }
            try (FileChannel out = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                if (d.sizeBytes > 0) {
                    out.write(ByteBuffer.allocate(1), d.sizeBytes - 1);
                }
                for (Map.Entry<Long, byte[]> page : d.pages.entrySet()) {
                    long pos = page.getKey() * PAGE_BYTES;
                    int n = (int) Math.min(PAGE_BYTES, d.sizeBytes - pos);
                    if (n > 0) {
                        ByteBuffer b = ByteBuffer.wrap(page.getValue(), 0, n);
                        while (b.hasRemaining()) {
                            out.write(b, pos + b.position());
                        }
                    }
                }
            }
        }
    }
}
