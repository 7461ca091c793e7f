package dev.rewind.increments.deltamap;

import dev.rewind.volumeset.io.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A set's merged delta maps ({@link SpanMap}), in {@code maps/} beside its increments, kept in
 * levels: a level-1 span is {@code fanout} transactions, a level-{@code k} span is {@code fanout}
 * spans of level {@code k-1}, aligned on transaction ids ({@code [j*size+1, (j+1)*size]}). A
 * reader of a point claims the transactions after it oldest first: single ones up to the next
 * aligned span, then the largest spans that fit, then single ones again. So opening a point
 * 10,000 transactions back reads about {@code 2 * fanout * levels} maps, not 10,000 indexes.
 *
 * <p>Spans are derived data: one is built when its last transaction commits
 * ({@link #transactionCommitted}), and again on a read if it is missing. A span that names a
 * transaction that is no longer on hand (a cut that never committed, history dropped) is
 * deleted by {@link #removeFrom}.
 */
public final class SpanMaps {
    private static final Logger LOG = LoggerFactory.getLogger(SpanMaps.class);
    public static final int DEFAULT_FANOUT = 64;
    private static final int MAX_LEVELS = 4;
    private static final int CACHED_SPANS = 32;
    private static final String SUFFIX = ".rwm";

    /** The bytes one transaction changed: its backward increment's extents. */
    @FunctionalInterface
    public interface ChangedRanges {
        void forEach(long transactionId, RangeConsumer consumer) throws IOException;
    }

    @FunctionalInterface
    public interface RangeConsumer {
        void accept(int member, long startBytes, long endBytes);
    }

    private final Path dir;
    private final int fanout;
    private final int memberCount;
    private final ChangedRanges changes;
    private final Map<Long, SpanMap> cache = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, SpanMap> eldest) {
            return size() > CACHED_SPANS;
        }
    };

    public SpanMaps(Path dir, int fanout, int memberCount, ChangedRanges changes) throws IOException {
        if (fanout < 2) {
            throw new IllegalArgumentException("span fanout " + fanout + " is below 2");
        }
        this.dir = DurableFiles.createDirectories(dir);
        this.fanout = fanout;
        this.memberCount = memberCount;
        this.changes = changes;
    }

    public Path dir() {
        return dir;
    }

    /** Transactions a span of {@code level} holds. */
    long spanSize(int level) {
        long size = 1;
        for (int i = 0; i < level; i++) {
            size *= fanout;
        }
        return size;
    }

    Path path(long firstId, long lastId) {
        return dir.resolve(String.format("%016d-%016d%s", firstId, lastId, SUFFIX));
    }

    /**
     * Claims into {@code map}, oldest first, the bytes transactions {@code firstId..lastId}
     * changed, each as {@code -id} of the oldest of them that changed it (whose backward
     * increment holds what it held before {@code firstId}). Builds missing spans on the way.
     */
    public void claimOldestFirst(WriteMap map, long firstId, long lastId) throws IOException {
        for (Piece p : plan(firstId, lastId)) {
            if (p.level() == 0) {
                long id = p.firstId();
                changes.forEach(id, (member, start, end) -> map.claim(member, start, end, -id));
            } else {
                span(p.level(), p.firstId()).claimInto(map, true);
            }
        }
    }

    /** One transaction ({@code level} 0) or one aligned span. */
    record Piece(int level, long firstId, long lastId) {
    }

    /** The fewest pieces that cover {@code firstId..lastId} in order. */
    List<Piece> plan(long firstId, long lastId) {
        List<Piece> pieces = new ArrayList<>();
        long cursor = firstId;
        while (cursor <= lastId) {
            int level = MAX_LEVELS;
            while (level > 0) {
                long size = spanSize(level);
                if ((cursor - 1) % size == 0 && cursor + size - 1 <= lastId) {
                    break;
                }
                level--;
            }
            long size = spanSize(level);
            pieces.add(new Piece(level, cursor, cursor + size - 1));
            cursor += size;
        }
        return pieces;
    }

    /** The span of {@code level} starting at {@code firstId}: cached, read, or built (from the level below) and written. */
    private synchronized SpanMap span(int level, long firstId) throws IOException {
        long lastId = firstId + spanSize(level) - 1;
        synchronized (cache) {
            SpanMap cached = cache.get(key(level, firstId));
            if (cached != null) {
                return cached;
            }
        }
        Path file = path(firstId, lastId);
        SpanMap span;
        if (Files.exists(file)) {
            span = SpanMap.read(file, firstId, lastId, memberCount);
        } else {
            span = build(level, firstId, lastId);
            span.write(file);
        }
        synchronized (cache) {
            cache.put(key(level, firstId), span);
        }
        return span;
    }

    private static long key(int level, long firstId) {
        return firstId * 8 + level;
    }

    private SpanMap build(int level, long firstId, long lastId) throws IOException {
        WriteMap oldestFirst = new WriteMap(memberCount);
        if (level == 1) {
            for (long id = firstId; id <= lastId; id++) {
                long source = id;
                changes.forEach(id, (member, start, end) -> oldestFirst.claim(member, start, end, source));
            }
        } else {
            long step = spanSize(level - 1);
            for (long first = firstId; first <= lastId; first += step) {
                span(level - 1, first).claimInto(oldestFirst, false);
            }
        }
        return SpanMap.of(firstId, lastId, oldestFirst);
    }

    /**
     * Builds the spans that transaction {@code id}, just committed, completes, so that a reader
     * finds them ready. A failure is logged, not thrown: a missing span is built when read.
     */
    public void transactionCommitted(long id) {
        for (int level = 1; level <= MAX_LEVELS; level++) {
            long size = spanSize(level);
            if (id % size != 0) {
                return;
            }
            try {
                span(level, id - size + 1);
            } catch (IOException | RuntimeException e) {
                LOG.warn("delta maps {}: span {}..{} not built now ({}); it is built when a read needs it", dir, id - size + 1, id, e.toString());
                return;
            }
        }
    }

    /**
     * Deletes the spans that hold any transaction from {@code firstGoneId} on (they name
     * transactions no longer on hand), and temporary files. Returns how many files went.
     */
    public int removeFrom(long firstGoneId) throws IOException {
        int removed = 0;
        for (Path p : files()) {
            String name = p.getFileName().toString();
            boolean gone = !name.endsWith(SUFFIX);
            if (!gone) {
                long[] ids = idsOf(name);
                gone = ids == null || ids[1] >= firstGoneId;
            }
            if (gone) {
                Files.deleteIfExists(p);
                removed++;
            }
        }
        synchronized (cache) {
            cache.values().removeIf(s -> s.lastId() >= firstGoneId);
        }
        if (removed > 0) {
            DurableFiles.forceDirectory(dir);
        }
        return removed;
    }

    /** A change of the history that the spans must not see half done. */
    @FunctionalInterface
    public interface HistoryChange {
        void run() throws IOException;
    }

    /**
     * Runs {@code change} (retention merging or dropping transactions {@code firstId..lastId})
     * with no span being built meanwhile, after deleting every span that holds any of those ids:
     * a crash after the change leaves no span that describes the history before it. The spans
     * are built again, from the history after the change, when a read needs them.
     */
    public synchronized void change(long firstId, long lastId, HistoryChange change) throws IOException {
        int removed = 0;
        for (Path p : files()) {
            String name = p.getFileName().toString();
            long[] ids = idsOf(name);
            if (ids == null || ids[1] >= firstId && ids[0] <= lastId) {
                Files.deleteIfExists(p);
                removed++;
            }
        }
        synchronized (cache) {
            cache.values().removeIf(s -> s.lastId() >= firstId && s.firstId() <= lastId);
        }
        if (removed > 0) {
            DurableFiles.forceDirectory(dir);
        }
        change.run();
    }

    /** Reads and checks every span on disk; returns how many were checked. */
    public int verify() throws IOException {
        int checked = 0;
        for (Path p : files()) {
            long[] ids = idsOf(p.getFileName().toString());
            if (ids != null) {
                SpanMap.read(p, ids[0], ids[1], memberCount);
                checked++;
            }
        }
        return checked;
    }

    /** Bytes the span files hold. */
    public long sizeBytes() throws IOException {
        long total = 0;
        for (Path p : files()) {
            total += Files.size(p);
        }
        return total;
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    /** {@code [first, last]} of a span file's name, or null if the name is not one. */
    private static long[] idsOf(String name) {
        if (!name.endsWith(SUFFIX) || name.length() != 16 + 1 + 16 + SUFFIX.length()) {
            return null;
        }
        try {
            return new long[] {Long.parseLong(name.substring(0, 16)), Long.parseLong(name.substring(17, 33))};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
