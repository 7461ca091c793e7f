package dev.rewind.increments.transaction;

import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.volumeset.io.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a set's increments live on its secondary: {@code increments/<id>.fwd} and
 * {@code <id>.bwd}, one pair per transaction, id zero-padded so names sort by age. Keeps the
 * increments read most recently open (restores and past exports read neighbouring ranges of
 * the same few increments).
 */
public final class IncrementStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IncrementStore.class);
    private static final int OPEN_FILES = 256;

    private final Path dir;
    /** By {@link #key}: formatting a path on every read of the past costs more than the read. */
    private final Map<Long, IncrementFile> open = new LinkedHashMap<>(16, 0.75f, true);
    /** Increments dropped from {@link #open} that a reader may still be using: closed by {@link #closeEvicted}. */
    private final List<IncrementFile> evicted = new java.util.ArrayList<>();

    public IncrementStore(Path dir) throws IOException {
        this.dir = DurableFiles.createDirectories(dir);
    }

    public Path dir() {
        return dir;
    }

    public Path path(long transactionId, IncrementDirection direction) {
        String id = Long.toString(transactionId); // not String.format: a read far back opens many increments
        return dir.resolve("0".repeat(Math.max(0, 16 - id.length())) + id + (direction == IncrementDirection.FORWARD ? ".fwd" : ".bwd"));
    }

    /** The increment of a committed transaction, opened (and its index checked) on first use. */
    public synchronized IncrementFile get(long transactionId, IncrementDirection direction) throws IOException {
        long key = key(transactionId, direction);
        IncrementFile f = open.get(key);
        if (f == null) {
            f = IncrementFile.open(path(transactionId, direction));
            open.put(key, f);
            if (open.size() > OPEN_FILES) {
                var eldest = open.entrySet().iterator().next();
                open.remove(eldest.getKey());
                eldest.getValue().dropCache(); // its memory goes now; its file is closed once no reader can hold it
                evicted.add(eldest.getValue());
            }
        }
        return f;
    }

    private static long key(long transactionId, IncrementDirection direction) {
        return transactionId * 2 + direction.ordinal();
    }

    /** How many increments dropped from the cache wait for {@link #closeEvicted}. */
    public synchronized int evictedCount() {
        return evicted.size();
    }

    /** Closes the increments dropped from the cache; the caller makes sure no reader is using them (it holds the history's write lock). */
    public synchronized void closeEvicted() throws IOException {
        for (IncrementFile f : evicted) {
            f.close();
        }
        evicted.clear();
    }

    /**
     * Closes the cached increments of the transactions retention merged or dropped; the caller
     * holds the history's write lock, so no reader is using them.
     */
    public synchronized void forget(java.util.function.LongPredicate transactionIds) throws IOException {
        var it = open.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (transactionIds.test(e.getKey() / 2)) {
                e.getValue().close();
                it.remove();
            }
        }
        closeEvicted();
    }

    /**
     * Deletes what a cut that never committed left behind: temporary files, and increments of
     * transactions after {@code lastCommittedId}. Returns how many files went.
     */
    public synchronized int removeOrphans(long lastCommittedId) throws IOException {
        return removeOrphans(id -> id <= lastCommittedId, "left by a cut that never committed");
    }

    /**
     * Deletes temporary files and the increments of every transaction {@code committed} does not
     * accept (a cut that never committed, or transactions retention merged away or dropped).
     */
    public synchronized int removeOrphans(java.util.function.LongPredicate committed, String why) throws IOException {
        int removed = 0;
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.toList();
        }
        for (Path p : files) {
            String name = p.getFileName().toString();
            boolean orphan = IncrementFile.isTemporary(p);
            if (!orphan && (name.endsWith(".fwd") || name.endsWith(".bwd"))) {
                try {
                    orphan = !committed.test(Long.parseLong(name.substring(0, name.indexOf('.'))));
                } catch (NumberFormatException e) {
                    orphan = false;
                }
            }
            if (orphan) {
                LOG.info("increments {}: removing {}, {}", dir, name, orphan && IncrementFile.isTemporary(p) ? "a file never finished" : why);
                Files.deleteIfExists(p);
                removed++;
            }
        }
        if (removed > 0) {
            DurableFiles.forceDirectory(dir);
        }
        return removed;
    }

    /** Bytes the increment files hold. */
    public long sizeBytes() throws IOException {
        long total = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                total += Files.size(p);
            }
        }
        return total;
    }

    @Override
    public synchronized void close() throws IOException {
        IOException first = null;
        evicted.addAll(open.values());
        for (IncrementFile f : evicted) {
            try {
                f.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        open.clear();
        evicted.clear();
        if (first != null) {
            throw first;
        }
    }
}
