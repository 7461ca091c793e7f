package dev.rewind.increments.restore;

import dev.rewind.increments.deltamap.DeltaMap;
import dev.rewind.increments.deltamap.SpanMaps;
import dev.rewind.increments.deltamap.WriteMap;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementExtent;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.IncrementStore;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.increments.transaction.TransactionLog;
import dev.rewind.volumeset.ByteRangeSet;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The history of a set on hand, and every way of reading the past from it. Three stores
 * make it up: the journal (every write since its oldest segment), the transactions' increments
 * (per transaction, the changed blocks before and after), and the replica (the set at the
 * newest cut). The content of a byte at seq N is, first found wins:
 * <ol>
 *   <li>the newest journal record at or before N inside N's transaction (after the boundary
 *       at or before N);</li>
 *   <li>the backward increment of the oldest later transaction that changed it (what it
 *       held when that transaction began, which is what it held at N);</li>
 *   <li>the replica.</li>
 * </ol>
 * So reading the past costs what changed after it, not the size of the set or the length of
 * the history. Readers hold the read lock; the replica's move at a cut and the deletion of
 * old journal segments hold the write lock.
 */
public final class SetHistory {
    private static final int MAX_PIECE_BYTES = 1 << 20;
    /** Increment files dropped from the store's cache that may wait for a moment without readers before one read waits for it. */
    private static final int EVICTED_BEFORE_WAITING = 256;

    private final String setName;
    private final Journal journal;
    private final TransactionLog transactions;
    private final IncrementStore increments;
    private final List<ReplicaImage> replicas;
    private final Clock clock;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** The views opened most recently, shared by the readers of the same seq (several connections to one export). */
    private final Map<Long, PastView> views = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, PastView> eldest) {
            return size() > 16;
        }
    };
    private final SpanMaps spans;
    private final Retention retention;
    /** Counts the retention passes that changed the history: a view's map from before one is built again. */
    private volatile long generation;

    public SetHistory(String setName, Journal journal, TransactionLog transactions, IncrementStore increments,
                      List<ReplicaImage> replicas, Clock clock) throws IOException {
        this(setName, journal, transactions, increments, replicas, clock, SpanMaps.DEFAULT_FANOUT);
    }

    /**
     * @param spanFanout transactions per merged delta map ({@link SpanMaps}), kept in {@code maps/}
     *                   beside the increments; a small one makes tests cross many spans
     */
    public SetHistory(String setName, Journal journal, TransactionLog transactions, IncrementStore increments,
                      List<ReplicaImage> replicas, Clock clock, int spanFanout) throws IOException {
        this.setName = setName;
        this.journal = journal;
        this.transactions = transactions;
        this.increments = increments;
        this.replicas = replicas;
        this.clock = clock;
        Retention.recover(transactions, increments); // a pass a crash cut short: finished or rolled back
        this.spans = new SpanMaps(increments.dir().resolveSibling("maps"), spanFanout, replicas.size(),
                (id, consumer) -> {
                    if (!transactions.hasId(id)) {
                        return; // merged into a newer one or dropped by retention
                    }
                    for (IncrementExtent e : increments.get(id, IncrementDirection.BACKWARD).extents()) {
                        consumer.accept(e.member(), e.offsetBytes(), e.endBytes());
                    }
                });
        spans.removeFrom(transactions.nextId()); // left by a cut that never committed
        this.retention = new Retention(transactions.setUuid(), transactions, increments, spans, lock.writeLock(), replicas.size(),
                this::historyChanged);
    }

    private void historyChanged() {
        generation++;
        synchronized (views) {
            views.clear();
        }
    }

    /**
     * What {@code policy} keeps of this history at {@code now}, with the points {@code pins}
     * name: see {@link RetentionPlan}. Changes nothing.
     */
    public RetentionPlan planRetention(RetentionPolicy policy, Instant now, List<RetentionPlan.Pin> pins, long maxBytes,
                                       long secondaryBytes) {
        lock.readLock().lock();
        try {
            return RetentionPlan.of(transactions.all(), transactions.firstBoundary(), oldestExactSeq(), now, policy, pins, maxBytes,
                    secondaryBytes);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Carries out a plan of {@link #planRetention}: see {@link Retention}. */
    public Retention.Result retain(RetentionPlan plan, java.util.function.Supplier<long[]> readersNow) throws IOException {
        return retention.apply(plan, readersNow);
    }

    /** The merged delta maps of the history's transactions. */
    public SpanMaps spans() {
        return spans;
    }

    /** Held while the replica moves or journal segments are deleted. */
    public Lock writeLock() {
        return lock.writeLock();
    }

    public Journal journal() {
        return journal;
    }

    public TransactionLog transactions() {
        return transactions;
    }

    public IncrementStore increments() {
        return increments;
    }

    public int memberCount() {
        return replicas.size();
    }

    /** The seq the replica equals: the newest cut. */
    public long replicaSeq() {
        return replicas.isEmpty() ? transactions.lastSeq() : replicas.get(0).seq();
    }

    /** The oldest seq the history can bring back (a transaction boundary). */
    public long oldestSeq() {
        return transactions.firstBoundary();
    }

    /** The oldest seq from which every later write can be restored exactly; before it, only boundaries. */
    public long oldestExactSeq() {
        long journalStart = journal.firstSeq() - 1;
        if (journalStart <= transactions.firstBoundary()) {
            return transactions.firstBoundary();
        }
        return transactions.boundaryAtOrAfter(journalStart).orElse(transactions.lastSeq());
    }

    /**
     * Checks that {@code seq} can be brought back, with a message that says what can. Cheap,
     * for every read; a point named by a user goes through {@link #checkPlaceable} as well.
     */
    public void checkRestorable(long seq) {
        if (seq > journal.lastSeq()) {
            throw new RewindException("seq " + seq + " is beyond the newest write of set " + setName + " (seq " + journal.lastSeq() + ")");
        }
        if (seq < oldestSeq()) {
            throw new RewindException("seq " + seq + " is older than the history on hand for set " + setName
                    + " (oldest restorable seq is " + oldestSeq() + "); to keep history longer, lengthen the set's rules: rewind set update "
                    + setName + " --keep ...");
        }
        if (seq < oldestExactSeq() && !transactions.isBoundary(seq)) {
            throw new RewindException("seq " + seq + " of set " + setName + " is older than the every-write history (which starts at seq "
                    + oldestExactSeq() + "); only the points retention keeps remain there: the nearest are " + nearestPoints(seq)
                    + " (rewind retain " + setName + " --dry-run shows which rules keep what)");
        }
    }

    /**
     * Checks that {@code seq} is a point a user may be handed: restorable, and not inside the
     * writes of a restore in place (a state that no one wrote: half the blocks at the restore's
     * target, half as they were). Refused with the nearest points outside it.
     */
    public void checkPlaceable(long seq) {
        lock.readLock().lock(); // not while the journal is being dropped: see dropJournalBefore
        try {
            checkRestorable(seq);
            if (isInsideRestore(seq)) {
                throw new RewindException("seq " + seq + " of set " + setName + " lies inside the writes of a restore in place, a state "
                        + "that no one wrote; the nearest points outside it are " + nearestPoints(seq));
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** "seq A and seq B": the nearest placeable points before and after {@code seq}, for a refusal. */
    private String nearestPoints(long seq) {
        long before = placeableAtOrBefore(seq);
        long after = placeableAtOrAfter(seq);
        return after < 0 || after == before ? "seq " + before : "seq " + before + " and seq " + after;
    }

    /**
     * Whether {@code seq} lies inside the writes of a restore in place: the write at it and the
     * one after it are both a restore's, and it is not the end of a restore (a restore cuts a
     * boundary after its last write). Where the journal no longer holds them, the transaction
     * log's mark says it for boundaries ({@link Transaction#startsInsideRestore}). The newest
     * write is never inside a finished restore; an unfinished one is the open set's to know.
     */
    public boolean isInsideRestore(long seq) {
        int i = transactions.indexHolding(seq);
        Transaction holding = i < 0 ? null : transactions.at(i);
        if (holding != null && holding.lastSeq() == seq && holding.reason() == CutReason.RESTORE) {
            return false;
        }
        if (seq >= journal.firstSeq() && seq + 1 <= journal.lastSeq()) {
            return journal.record(seq).isRestore() && journal.record(seq + 1).isRestore();
        }
        int next = transactions.indexHolding(seq + 1);
        return next >= 0 && transactions.at(next).firstSeq() == seq + 1 && transactions.at(next).startsInsideRestore();
    }

    /**
     * The newest point at or before {@code seq} that a user may be handed: {@code seq} itself if
     * it is placeable, else the nearest earlier exact write or boundary outside any restore.
     */
    public long placeableAtOrBefore(long seq) {
        long s = Math.min(seq, journal.lastSeq());
        while (s > oldestSeq()) {
            if (s < oldestExactSeq()) {
                s = transactions.boundaryAtOrBefore(s);
            }
            if (!isInsideRestore(s)) {
                return s;
            }
            s--;
        }
        return oldestSeq();
    }

    /** The oldest placeable point at or after {@code seq}, or -1 if none is. */
    public long placeableAtOrAfter(long seq) {
        long s = Math.max(seq, oldestSeq());
        while (s <= journal.lastSeq()) {
            if (s < oldestExactSeq()) {
                Optional<Long> b = transactions.boundaryAtOrAfter(s);
                if (b.isEmpty()) {
                    return -1;
                }
                s = b.get();
            }
            if (!isInsideRestore(s)) {
                return s;
            }
            s++;
        }
        return -1;
    }

    /**
     * The newest restorable seq at or before {@code time}: the transaction is found by time
     * first, then, where the journal still holds its writes, the write. A time in the future is
     * refused (it is a typo or a wrong zone, not "now").
     */
    public long seqAtTime(Instant time) {
        if (time.isAfter(clock.instant())) {
            long last = journal.lastSeq();
            String newest = last >= journal.firstSeq()
                    ? "the newest write of set " + setName + " is seq " + last + " at " + Times.format(journal.record(last).time())
                    : "set " + setName + " has no writes yet";
            throw new RewindException(Times.format(time) + " is in the future; " + newest);
        }
        long micros = Times.micros(time);
        List<Transaction> all = transactions.all();
        if (!all.isEmpty() && micros < all.get(0).boundaryBeforeTimeMicros() || all.isEmpty() && time.isBefore(journal.startedAt())) {
            throw new RewindException("no write of set " + setName + " at or before " + Times.format(time)
                    + " is in the history on hand, which starts at "
                    + Times.format(all.isEmpty() ? journal.startedAt() : Times.ofMicros(all.get(0).boundaryBeforeTimeMicros())));
        }
        long boundary = transactions.lastEndedAtOrBefore(micros).map(Transaction::lastSeq).orElse(oldestSeq());
        long at = boundary;
        if (journal.lastSeq() >= journal.firstSeq() && !time.isBefore(journal.startedAt())) {
            long exact = journal.lastSeqAtOrBefore(time);
            if (exact >= oldestExactSeq()) {
                at = Math.max(boundary, exact);
            }
        }
        return placeableAtOrBefore(at);
    }

    /**
     * The bytes changed after {@code fromSeq} up to {@code toSeq}: from the journal inside
     * partial transactions, and for each whole transaction from the journal or from its
     * increment's index, whichever has fewer entries.
     */
    public DeltaMap changedBetween(long fromSeq, long toSeq) throws IOException {
        lock.readLock().lock();
        try {
            DeltaMap d = new DeltaMap(fromSeq, toSeq, replicas.size());
            long at = fromSeq;
            while (at < toSeq) {
                int i = transactions.indexHolding(at + 1);
                Transaction t = i < 0 ? null : transactions.at(i);
                if (t != null && t.firstSeq() == at + 1 && t.lastSeq() <= toSeq
                        && (at + 1 < journal.firstSeq() || t.extentCount() < t.writes())) {
                    // the run of whole transactions from t on, through the merged delta maps
                    int last = i;
                    while (last + 1 < transactions.size() && transactions.at(last + 1).lastSeq() <= toSeq) {
                        last++;
                    }
                    WriteMap changed = new WriteMap(replicas.size());
                    spans.claimOldestFirst(changed, t.id(), transactions.at(last).id());
                    for (int m = 0; m < changed.memberCount(); m++) {
                        for (WriteMap.Extent e : changed.extents(m).values()) {
                            d.add(m, e.startBytes(), e.endBytes());
                        }
                    }
                    at = transactions.at(last).lastSeq();
                    continue;
                }
                long end = t == null ? toSeq : Math.min(toSeq, t.lastSeq());
                if (at + 1 < journal.firstSeq()) {
                    throw new RewindException("seq " + fromSeq + " of set " + setName + " is older than the every-write history; "
                            + "restore to a transaction boundary");
                }
                for (long s = at + 1; s <= end; s++) {
                    long offset = journal.offsetOf(s);
                    d.add(journal.memberOf(s), offset, offset + journal.lengthOf(s));
                }
                at = end;
            }
            return d;
        } finally {
            lock.readLock().unlock();
            closeEvictedIncrements();
        }
    }

    /**
     * Emits the content at {@code seq} of every range in {@code wanted} to {@code sink}.
     * The ranges of {@code wanted} are consumed. Every byte is checked against its checksum.
     *
     * @return the number of bytes emitted
     */
    public long reconstruct(long seq, DeltaMap wanted, RangeSink sink) throws IOException {
        lock.readLock().lock();
        try {
            checkRestorable(seq);
            long boundary = journalFrom(seq, replicaSeq());
            long emitted = fromJournal(seq, boundary, wanted, sink);
            if (wanted.totalBytes() > 0 && seq < replicaSeq()) {
                emitted += fromBackwardIncrements(seq, wanted, sink);
            }
            if (wanted.totalBytes() > 0) {
                emitted += fromReplica(wanted, sink);
            }
            return emitted;
        } finally {
            lock.readLock().unlock();
            closeEvictedIncrements();
        }
    }

    /**
     * Closes the increment files the store dropped from its cache. A reader takes files only
     * under the read lock, so they are closed under the write lock: at once if no reader holds
     * it, else left for a later read, until so many wait that this read waits for the others.
     * Without it, a long read of a point far back on a set that cuts nothing (where the cut
     * closes them) would run out of file descriptors.
     */
    private void closeEvictedIncrements() {
        int waiting = increments.evictedCount();
        if (waiting == 0 || lock.getReadHoldCount() > 0) {
            return;
        }
        boolean locked;
        if (waiting >= EVICTED_BEFORE_WAITING) {
            lock.writeLock().lock();
            locked = true;
        } else {
            locked = lock.writeLock().tryLock();
        }
        if (!locked) {
            return;
        }
        try {
            increments.closeEvicted();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * The seq after which the journal supplies a read of {@code seq}: the transaction boundary at
     * or before it, or the replica's seq if that is older (a cut committed whose replica has not
     * moved yet). Everything at that seq comes from backward increments and the replica.
     */
    private long journalFrom(long seq, long replicaSeq) {
        return Math.min(transactions.boundaryAtOrBefore(seq), replicaSeq);
    }

    private long fromJournal(long seq, long boundary, DeltaMap wanted, RangeSink sink) throws IOException {
        long emitted = 0;
        long remainingBytes = wanted.totalBytes();
        ByteBuffer payload = ByteBuffer.allocate(0);
        for (long s = seq; s > boundary && remainingBytes > 0; s--) {
            int member = journal.memberOf(s);
            ByteRangeSet remaining = wanted.changed(member);
            long start = journal.offsetOf(s);
            long end = start + journal.lengthOf(s);
            if (!remaining.intersects(start, end)) {
                continue;
            }
            List<ByteRangeSet.Range> parts = remaining.intersection(start, end);
            if (journal.typeOf(s) == RecordType.WRITE) {
                int length = journal.lengthOf(s);
                if (payload.capacity() < length + Journal.READ_OVERHEAD_BYTES) {
                    payload = ByteBuffer.allocate(Math.max(length + Journal.READ_OVERHEAD_BYTES, 64 << 10));
                }
                payload.clear();
                journal.readPayload(s, payload);
                for (ByteRangeSet.Range part : parts) {
                    int from = (int) (part.startBytes() - start);
                    ByteBuffer slice = payload.duplicate();
                    slice.limit(from + (int) part.lengthBytes()).position(from);
                    sink.accept(member, part.startBytes(), (int) part.lengthBytes(), slice);
                }
            } else {
                for (ByteRangeSet.Range part : parts) {
                    emitZeros(member, part, sink);
                }
            }
            for (ByteRangeSet.Range part : parts) {
                remaining.remove(part.startBytes(), part.endBytes());
                emitted += part.lengthBytes();
                remainingBytes -= part.lengthBytes();
            }
        }
        return emitted;
    }

    /**
     * Emits the ranges of {@code wanted} that a transaction after {@code seq} changed, from the
     * backward increment of the oldest such transaction (found through the merged delta maps).
     */
    private long fromBackwardIncrements(long seq, DeltaMap wanted, RangeSink sink) throws IOException {
        long firstLater = firstLaterId(seq);
        if (firstLater == Long.MAX_VALUE) {
            return 0;
        }
        WriteMap sources = new WriteMap(replicas.size());
        spans.claimOldestFirst(sources, firstLater, transactions.nextId() - 1);
        long emitted = 0;
        ByteBuffer buf = ByteBuffer.allocate(MAX_PIECE_BYTES);
        for (int member = 0; member < wanted.memberCount(); member++) {
            ByteRangeSet remaining = wanted.changed(member);
            List<ByteRangeSet.Range> taken = new java.util.ArrayList<>();
            for (WriteMap.Extent e : sources.extents(member).values()) {
                if (!remaining.intersects(e.startBytes(), e.endBytes())) {
                    continue;
                }
                IncrementFile backward = increments.get(-e.source(), IncrementDirection.BACKWARD);
                for (ByteRangeSet.Range part : remaining.intersection(e.startBytes(), e.endBytes())) {
                    for (long pos = part.startBytes(); pos < part.endBytes(); ) {
                        int n = (int) Math.min(MAX_PIECE_BYTES, part.endBytes() - pos);
                        buf.clear().limit(n);
                        backward.read(member, pos, buf);
                        buf.flip();
                        sink.accept(member, pos, n, ReplicaImage.isZero(buf) ? null : buf);
                        pos += n;
                    }
                    taken.add(part);
                    emitted += part.lengthBytes();
                }
            }
            for (ByteRangeSet.Range part : taken) {
                remaining.remove(part.startBytes(), part.endBytes());
            }
        }
        return emitted;
    }

    private long fromReplica(DeltaMap wanted, RangeSink sink) throws IOException {
        long emitted = 0;
        ByteBuffer buf = ByteBuffer.allocate(MAX_PIECE_BYTES);
        for (int member = 0; member < wanted.memberCount(); member++) {
            for (ByteRangeSet.Range r : wanted.changed(member)) {
                for (long pos = r.startBytes(); pos < r.endBytes(); ) {
                    int n = (int) Math.min(MAX_PIECE_BYTES, r.endBytes() - pos);
                    buf.clear().limit(n);
                    replicas.get(member).read(pos, buf);
                    buf.flip();
                    sink.accept(member, pos, n, buf);
                    pos += n;
                    emitted += n;
                }
            }
            wanted.changed(member).remove(0, Long.MAX_VALUE);
        }
        return emitted;
    }

    private static void emitZeros(int member, ByteRangeSet.Range part, RangeSink sink) throws IOException {
        for (long pos = part.startBytes(); pos < part.endBytes(); ) {
            int n = (int) Math.min(MAX_PIECE_BYTES, part.endBytes() - pos);
            sink.accept(member, pos, n, null);
            pos += n;
        }
    }

    /**
     * Reads what member {@code member} held at {@code seq}, without copying the volume:
     * through the point-in-time map of that seq ({@link #view}: built once, rebuilt when the replica has
     * moved since), only the records, increment chunks and replica chunks that hold the range
     * are read.
     */
    public void read(long seq, int member, long offsetBytes, ByteBuffer dst) throws IOException {
        view(seq).read(member, offsetBytes, dst);
    }

    /** {@code map} if it is still valid (the replica has not moved since it was built), else the map of {@code seq} built anew. */
    private PointInTimeMap currentMap(PointInTimeMap map, long seq) throws IOException {
        long replicaSeq = replicaSeq();
        if (map != null && map.replicaSeq() == replicaSeq) {
            return map;
        }
        long boundary = journalFrom(seq, replicaSeq);
        long firstLater = seq >= replicaSeq ? Long.MAX_VALUE : firstLaterId(seq);
        return PointInTimeMap.build(journal, seq, boundary, firstLater, transactions.nextId() - 1, spans, replicaSeq, replicas.size());
    }

    /**
     * The set as it was at {@code seq}, for a reader that comes back many times (a sandbox, a
     * past export): it keeps its own point-in-time map, built at its first read and again only
     * when the replica has moved, whatever other seqs are read meanwhile. Opening one reads nothing.
     */
    public PastView view(long seq) {
        checkPlaceable(seq);
        synchronized (views) {
            return views.computeIfAbsent(seq, PastView::new);
        }
    }

    /** See {@link #view(long)}. */
    public final class PastView {
        private final long seq;
        private volatile PointInTimeMap map;
        private volatile long mapGeneration;

        private PastView(long seq) {
            this.seq = seq;
        }

        public long seq() {
            return seq;
        }

        /** Fills {@code dst} with what member {@code member} held at this view's seq, from {@code offsetBytes}. */
        public void read(int member, long offsetBytes, ByteBuffer dst) throws IOException {
            lock.readLock().lock();
            try {
                checkRestorable(seq);
                PointInTimeMap m = map;
                if (m == null || m.replicaSeq() != replicaSeq() || mapGeneration != generation) {
                    synchronized (this) {
                        long g = generation;
                        m = currentMap(mapGeneration == g ? map : null, seq);
                        map = m;
                        mapGeneration = g;
                    }
                }
                m.read(member, offsetBytes, dst, journal, increments, replicas.get(member));
            } finally {
                lock.readLock().unlock();
            }
            closeEvictedIncrements();
        }
    }

    /** The id of the transaction holding {@code seq + 1} (the oldest that changed anything after seq), or past the newest. */
    private long firstLaterId(long seq) {
        int i = transactions.indexHolding(seq + 1);
        return i < 0 ? Long.MAX_VALUE : transactions.at(i).id();
    }

    /** Reads and checks every increment of every transaction and every merged delta map; returns how many files were checked. */
    public int verifyIncrements() throws IOException {
        int files = 0;
        lock.readLock().lock();
        try {
            for (Transaction t : transactions.all()) {
                for (IncrementDirection d : IncrementDirection.values()) {
                    IncrementFile f = increments.get(t.id(), d);
                    var h = f.header();
                    if (h.transactionId() != t.id() || h.firstSeq() != t.firstSeq() || h.lastSeq() != t.lastSeq()) {
                        throw new dev.rewind.volumeset.CorruptDataException(f.path(), 0, "the increment is of transaction " + h.transactionId()
                                + " (seqs " + h.firstSeq() + ".." + h.lastSeq() + "), but the log has transaction " + t.id() + " (seqs "
                                + t.firstSeq() + ".." + t.lastSeq() + ") there");
                    }
                    f.verify();
                    files++;
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        closeEvictedIncrements();
        return files + spans.verify();
    }

    /**
     * Deletes journal segments whose writes are all older than {@code olderThan} and covered by
     * completed transactions (the every-write horizon), keeping what a reader of the seq
     * {@code pinned} gives (the oldest pinned seq that is no boundary, if any) needs; returns the
     * bytes freed.
     */
    public long dropJournalBefore(Instant olderThan, java.util.function.Supplier<OptionalLong> pinned) throws IOException {
        lock.writeLock().lock();
        try {
            OptionalLong pinnedSeq = pinned.get(); // asked under the lock: a reader that pins and then checks is never dropped
            long covered = transactions.lastSeq();
            if (pinnedSeq.isPresent()) {
                covered = Math.min(covered, transactions.boundaryAtOrBefore(pinnedSeq.getAsLong()));
            }
            long freed = journal.deleteSegmentsUpTo(covered, olderThan);
            synchronized (views) {
                views.clear();
            }
            return freed;
        } finally {
            lock.writeLock().unlock();
        }
    }
}
