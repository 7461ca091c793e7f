package dev.rewind.increments.retention;

import dev.rewind.increments.deltamap.SpanMaps;
import dev.rewind.increments.deltamap.WriteMap;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementExtent;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.increments.increment.IncrementHeader;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.increments.transaction.IncrementStore;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.increments.transaction.TransactionLog;
import dev.rewind.volumeset.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.Lock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a {@link RetentionPlan}: fades out the oldest transactions and merges each run
 * of adjacent transactions between two kept points into one, whose backward increment is the
 * oldest content of every byte the run changed (what it held before the run) and whose forward
 * increment the newest (what it held after). The merged delta map is its increments' index;
 * the merged delta maps over spans of transactions that held any of them are built again. The
 * merged transaction keeps the id of the newest of its run, so the next cut's id does not move.
 *
 * <p>Crash-safe like a cut. The merged increments are written complete (forced, renamed) into
 * {@code retain/}, beside {@code increments/}; the commit point is the transaction log
 * rewritten and renamed over the old one; then the merged increments are moved over the newest
 * of each run's and the increments of every transaction no longer in the log are deleted. At
 * open ({@link #recover}), a staged increment whose transaction the log holds with the same
 * seqs is moved into place (the pass committed), any other is deleted (it did not), and
 * increments the log no longer names are deleted.
 */
public final class Retention {
    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
    private static final int PIECE_BYTES = 1 << 20;

    /** What one pass did. */
    public record Result(int transactionsBefore, int transactionsAfter, int dropped, int merged, int pointsGone,
                         long storedBytesBefore, long storedBytesAfter) {
        public long bytesFreed() {
            return Math.max(0, storedBytesBefore - storedBytesAfter);
        }
    }

    /** Told once a pass has changed the history (views of the past must be opened again). */
    @FunctionalInterface
    public interface Changed {
        void afterChange();
    }

    private final UUID setUuid;
    private final TransactionLog log;
    private final IncrementStore store;
    private final SpanMaps spans;
    private final Lock historyWriteLock;
    private final Path staging;
    private final Changed changed;
    private final int memberCount;

    public Retention(UUID setUuid, TransactionLog log, IncrementStore store, SpanMaps spans, Lock historyWriteLock, int memberCount,
                     Changed changed) {
        this.setUuid = setUuid;
        this.log = log;
        this.store = store;
        this.spans = spans;
        this.historyWriteLock = historyWriteLock;
        this.staging = stagingDir(store);
        this.memberCount = memberCount;
        this.changed = changed;
    }

    private static Path stagingDir(IncrementStore store) {
        return store.dir().resolveSibling("retain");
    }

    /**
     * Finishes or rolls back a pass that a crash cut short; run at open, before anything reads
     * the history. Returns how many files it moved or deleted.
     */
    public static int recover(TransactionLog log, IncrementStore store) throws IOException {
        Path staging = stagingDir(store);
        int touched = 0;
        if (Files.isDirectory(staging)) {
            for (Path p : list(staging)) {
                String name = p.getFileName().toString();
                IncrementDirection direction = name.endsWith(".fwd") ? IncrementDirection.FORWARD
                        : name.endsWith(".bwd") ? IncrementDirection.BACKWARD : null;
                boolean committed = false;
                if (direction != null && !IncrementFile.isTemporary(p)) {
                    IncrementHeader h;
                    try (IncrementFile f = IncrementFile.open(p)) {
                        h = f.header();
                    }
                    committed = log.byId(h.transactionId())
                            .map(t -> t.firstSeq() == h.firstSeq() && t.lastSeq() == h.lastSeq()).orElse(false);
                    if (committed) {
                        Files.move(p, store.path(h.transactionId(), direction), StandardCopyOption.ATOMIC_MOVE,
                                StandardCopyOption.REPLACE_EXISTING);
                        LOG.info("retention of {}: merged increment {} moved into place (the pass had committed)", store.dir(), name);
                    }
                }
                if (!committed) {
                    Files.deleteIfExists(p);
                }
                touched++;
            }
            DurableFiles.forceDirectory(store.dir());
            Files.deleteIfExists(staging);
            DurableFiles.forceDirectory(staging.getParent());
        }
        long newest = log.nextId() - 1;
        return touched + store.removeOrphans(id -> id > newest || log.hasId(id), "merged or dropped by retention");
    }

    /**
     * Carries out {@code plan}, made from this log's transactions (refused if the log changed
     * under it other than by newer cuts). Readers wait only for the commit, not for the merging.
     *
     * @param readersNow the seqs read by sandboxes, restores and exports right before the commit
     *                   (asked under the history's write lock): if one of them needs a point the
     *                   plan drops (it started meanwhile), nothing is changed and the pass is refused
     */
    public synchronized Result apply(RetentionPlan plan, java.util.function.Supplier<long[]> readersNow) throws IOException {
        List<Transaction> before = log.all();
        int countBefore = before.size();
        if (plan.isEmpty()) {
            return new Result(countBefore, countBefore, 0, 0, 0, 0, 0);
        }
        int last = plan.lastAffectedIndex();
        List<Transaction> planned = plan.transactions();
        if (before.size() < planned.size() || !before.subList(0, last + 1).equals(planned.subList(0, last + 1))) {
            throw new IllegalStateException("the transaction log changed since the retention plan was made; make it again");
        }
        deleteTree(staging);
        DurableFiles.createDirectories(staging);
        List<Transaction> replacement = new ArrayList<>();
        long storedAfter = 0;
        int mergeIndex = 0;
        List<RetentionPlan.Merge> merges = plan.merges();
        for (int i = plan.dropped(); i <= last; ) {
            RetentionPlan.Merge m = mergeIndex < merges.size() ? merges.get(mergeIndex) : null;
            if (m != null && m.fromIndex() == i) {
                Transaction merged = merge(planned.subList(m.fromIndex(), m.toIndex() + 1));
                replacement.add(merged);
                storedAfter += merged.forwardStoredBytes() + merged.backwardStoredBytes();
                i = m.toIndex() + 1;
                mergeIndex++;
            } else {
                replacement.add(planned.get(i));
                storedAfter += planned.get(i).forwardStoredBytes() + planned.get(i).backwardStoredBytes();
                i++;
            }
        }
        DurableFiles.forceDirectory(staging);
        long firstId = planned.get(0).id();
        long lastId = planned.get(last).id();
        long storedBefore = 0;
        for (int i = 0; i <= last; i++) {
            storedBefore += planned.get(i).forwardStoredBytes() + planned.get(i).backwardStoredBytes();
        }
        historyWriteLock.lock();
        try {
            java.util.Set<Long> going = new java.util.HashSet<>(plan.going());
            for (long seq : readersNow.get()) {
                long needed = log.boundaryAtOrBefore(seq);
                if (going.contains(needed)) {
                    deleteTree(staging);
                    throw new dev.rewind.volumeset.RewindException("seq " + seq + " began to be read while retention ran, and it needs seq "
                            + needed + ", which the pass drops; nothing was changed. Run retention again once that reader is done");
                }
            }
            spans.change(firstId, lastId, () -> {
                store.forget(id -> id >= firstId && id <= lastId);
                log.replace(replacement, lastId); // the commit point
                recover(log, store);
            });
            changed.afterChange();
        } finally {
            historyWriteLock.unlock();
        }
        int after = log.size();
        LOG.info("retention: {} transaction(s) dropped, {} run(s) merged, {} point(s) gone; increments {} -> {} bytes",
                plan.dropped(), merges.size(), plan.going().size(), storedBefore, storedAfter);
        return new Result(countBefore, after, plan.dropped(), merges.size(), plan.going().size(), storedBefore, storedAfter);
    }

    /** Writes the merged increments of {@code run} into the staging directory and returns its record. */
    private Transaction merge(List<Transaction> run) throws IOException {
        Transaction first = run.get(0);
        Transaction newest = run.get(run.size() - 1);
        Map<Long, IncrementFile> backward = new HashMap<>();
        Map<Long, IncrementFile> forward = new HashMap<>();
        try {
            WriteMap oldestFirst = new WriteMap(memberCount);
            for (Transaction t : run) {
                IncrementFile f = IncrementFile.open(store.path(t.id(), IncrementDirection.BACKWARD));
                backward.put(t.id(), f);
                claimAll(oldestFirst, f, t.id());
            }
            WriteMap newestFirst = new WriteMap(memberCount);
            for (int i = run.size() - 1; i >= 0; i--) {
                Transaction t = run.get(i);
                IncrementFile f = IncrementFile.open(store.path(t.id(), IncrementDirection.FORWARD));
                forward.put(t.id(), f);
                claimAll(newestFirst, f, t.id());
            }
            IncrementFile.IncrementSummary fwd = write(first, newest, IncrementDirection.FORWARD, newestFirst, forward);
            IncrementFile.IncrementSummary bwd = write(first, newest, IncrementDirection.BACKWARD, oldestFirst, backward);
            long writes = 0;
            long bytes = 0;
            int mergedCount = 0;
            for (Transaction t : run) {
                writes += t.writes();
                bytes += t.bytes();
                mergedCount += t.merged();
            }
            return new Transaction(newest.id(), first.firstSeq(), newest.lastSeq(), first.startMicros(), newest.endMicros(), writes, bytes,
                    newest.reason(), newest.codec(), fwd.extentCount(), fwd.storedBytes(), bwd.storedBytes(), fwd.rawBytes(),
                    first.startsInsideRestore(), mergedCount, first.boundaryBeforeMicros());
        } finally {
            for (IncrementFile f : backward.values()) {
                f.close();
            }
            for (IncrementFile f : forward.values()) {
                f.close();
            }
        }
    }

    private static void claimAll(WriteMap map, IncrementFile f, long source) {
        for (IncrementExtent e : f.extents()) {
            map.claim(e.member(), e.offsetBytes(), e.endBytes(), source);
        }
    }

    private IncrementFile.IncrementSummary write(Transaction first, Transaction newest, IncrementDirection direction, WriteMap sources,
                                                 Map<Long, IncrementFile> files) throws IOException {
        Path target = staging.resolve(store.path(newest.id(), direction).getFileName());
        ByteBuffer buf = ByteBuffer.allocate(PIECE_BYTES);
        try (IncrementFile.Writer w = IncrementFile.create(target, new IncrementHeader(setUuid, newest.id(), direction, first.firstSeq(),
                newest.lastSeq(), memberCount, newest.codec()))) {
            for (int m = 0; m < memberCount; m++) {
                for (WriteMap.Extent e : sources.extents(m).values()) {
                    IncrementFile source = files.get(e.source());
                    for (long pos = e.startBytes(); pos < e.endBytes(); ) {
                        int n = (int) Math.min(PIECE_BYTES, e.endBytes() - pos);
                        buf.clear().limit(n);
                        source.read(m, pos, buf);
                        buf.flip();
                        if (ReplicaImage.isZero(buf)) {
                            w.addZeros(m, pos, n);
                        } else {
                            w.add(m, pos, buf);
                        }
                        pos += n;
                    }
                }
            }
            return w.finish();
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        for (Path p : list(dir)) {
            Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }
}
