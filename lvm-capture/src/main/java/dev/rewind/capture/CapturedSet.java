package dev.rewind.capture;

import dev.rewind.increments.deltamap.DeltaMap;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.increments.restore.Clone;
import dev.rewind.increments.restore.InPlaceRestore;
import dev.rewind.increments.restore.InterruptedRestore;
import dev.rewind.increments.restore.RestoreIntent;
import dev.rewind.increments.restore.RestorePlan;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.increments.restore.SetHistory;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.CutRules;
import dev.rewind.increments.transaction.CutTrigger;
import dev.rewind.increments.transaction.IncrementStore;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.increments.transaction.TransactionCutter;
import dev.rewind.increments.transaction.TransactionLog;
import dev.rewind.increments.transaction.TransactionService;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.SetRecord;
import dev.rewind.volumeset.layout.PrimaryMember;
import dev.rewind.volumeset.layout.SetPrimaries;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A production volume set opened for capture: the logical volume management device.
 * Every write of any member takes the next seq of the set, goes to the journal, marks
 * its dirty region durably, and only then reaches the primary; its transactions are cut
 * into increments as the set's rules say ({@link TransactionService}). Opening runs recovery
 * (a cut cut short, then the dirty regions); the past is read through the set's
 * {@link SetHistory}; restores in place are journaled like any other write, so they can be
 * undone.
 */
public final class CapturedSet implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CapturedSet.class);

    private final SetRecord set;
    private final SetLock lock;
    private final SetPrimaries primaries;
    private final Journal journal;
    private final DirtyRegionLog drl;
    private final List<ReplicaImage> replicas;
    private final TransactionLog transactionLog;
    private final IncrementStore increments;
    private final SetHistory history;
    private final TransactionService transactions;
    private volatile Duration keepEveryWrite;
    private volatile Supplier<long[]> historyPins = () -> new long[0];
    /** The retention rules after the every-write horizon ({@link #keepEveryWrite} is that part). */
    private volatile RetentionPolicy retentionRules = RetentionPolicy.ALL;
    private volatile Supplier<List<RetentionPlan.Pin>> retentionPins = List::of;
    private volatile long maxSecondaryBytes;
    /** Seqs that restores and clones running now read: kept like {@link #historyPins} while they run. */
    private final java.util.Collection<Long> readersPins = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final CaptureOptions options;
    private final RecoveryReport recovery;
    /** Whether this open repaired an unclean stop and no {@link #verify} has passed since. */
    private volatile boolean recoveredAfterUncleanStop;
    private final InPlaceRestore inPlace;
    private final CapturePath path;
    private final List<BlockDevice> devices = new ArrayList<>();
    private final ScheduledExecutorService checkpointer;
    private volatile boolean closed;
    private int references = 1;

    private CapturedSet(SetRecord set, SetLock lock, SetPrimaries primaries, Journal journal, DirtyRegionLog drl,
                        List<ReplicaImage> replicas, TransactionLog transactionLog, IncrementStore increments,
                        CaptureOptions options) throws IOException {
        this.set = set;
        this.lock = lock;
        this.primaries = primaries;
        this.journal = journal;
        this.drl = drl;
        this.replicas = replicas;
        this.transactionLog = transactionLog;
        this.increments = increments;
        this.options = options;
        this.keepEveryWrite = options.keepEveryWrite();
        this.path = new CapturePath(set.name(), primaries, journal, drl, this::recordCaptured, options.clock());
        this.history = new SetHistory(set.name(), journal, transactionLog, increments, replicas, options.clock(), options.spanFanout());
        TransactionCutter cutter = new TransactionCutter(set.uuid(), journal, transactionLog, increments, replicas, history.writeLock());
        cutter.recover();
        this.recovery = recover();
        this.recoveredAfterUncleanStop = !recovery.wasClean();
        this.inPlace = InPlaceRestore.open(set.name(), set.secondaryDir(), journal, history, primaries.members().size(),
                options.clock(), (member, offset, length, data) -> capture(member,
                        data == null ? RecordType.WRITE_ZEROES : RecordType.WRITE, JournalRecord.FLAG_RESTORE, offset, length, data));
        // last: its cut thread starts here, once nothing else in opening can fail
        this.transactions = new TransactionService(set.name(), journal, cutter, new CutTrigger(options.cutRules(), options.clock()),
                options.codec(), options.clock(), inPlace::isUnfinished);
        // not at a restore's own cuts: the one before it must not drop the journal its target is read from
        transactions.addListener(t -> history.spans().transactionCommitted(t.id()));
        transactions.addListener(t -> {
            if (t.reason() != CutReason.RESTORE) {
                applyHorizon();
            }
        });
        for (PrimaryMember m : primaries.members()) {
            devices.add(new MemberDevice(m));
        }
        this.checkpointer = startCheckpointer();
    }

    /**
     * Checkpoints in the background every {@code checkpointInterval} while writes come in,
     * so that neither writes nor flushes wait for the primaries to be forced.
     */
    private ScheduledExecutorService startCheckpointer() {
        if (options.checkpointInterval().isZero()) {
            return null;
        }
        var executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rewind-checkpoint-" + set.name());
            t.setDaemon(true);
            return t;
        });
        long periodMillis = Math.max(1, options.checkpointInterval().toMillis());
        executor.scheduleWithFixedDelay(() -> {
            try {
                if (!path.isClosed() && journal.lastSeq() != path.previousCheckpointSeq()) {
                    checkpoint();
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("set {}: checkpoint failed, will retry: {}", set.name(), e.toString());
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        return executor;
    }

    static CapturedSet open(SetRecord set, SetPrimaries primaries, CaptureOptions options) throws IOException {
        SetSecondary.Opened o = SetSecondary.open(set, primaries, options);
        try {
            return new CapturedSet(set, o.lock(), primaries, o.journal(), o.drl(), o.replicas(), o.transactions(), o.increments(), options);
        } catch (IOException | RuntimeException e) {
            o.closeAfter(e);
            throw e;
        }
    }

    /**
     * Brings the primaries in line with the journal: every dirty region is rewritten with
     * what the journal (and, below it, the replica) says it holds at the newest seq.
     */
    private RecoveryReport recover() throws IOException {
        int dirtyRegions = drl.dirtyRegionCount();
        long resynced = 0;
        if (dirtyRegions > 0) {
            rewriteNewestJournalSegment();
            DeltaMap dirty = new DeltaMap(journal.lastSeq(), journal.lastSeq(), primaries.members().size());
            for (int m = 0; m < primaries.members().size(); m++) {
                dirty.changed(m).addAll(drl.dirtyRanges(m));
            }
            resynced = history.reconstruct(journal.lastSeq(), dirty, (member, offset, length, data) -> {
                PrimaryMember p = primaries.member(member);
                CapturePath.writeFullyOrZeros(p, offset, length, data);
            });
            primaries.force();
            drl.clearWrittenAtOrBefore(Long.MAX_VALUE);
            LOG.info("set {}: recovered {} dirty regions ({} bytes) from the journal up to seq {}", set.name(), dirtyRegions, resynced,
                    journal.lastSeq());
        }
        return new RecoveryReport(journal.truncatedBytesAtOpen(), dirtyRegions, resynced);
    }

    /**
     * After an unclean stop, writes the journal's newest segment again in place, byte for byte,
     * and forces it. A set stops at a failed force, after which the kernel may have dropped the
     * segment's dirty pages while still showing them; a later force would succeed without them
     * (PostgreSQL's fsync lesson), and writes acknowledged after a reopen in the same boot would
     * not survive a power loss. Written again, its pages are dirty once more and the force makes
     * them durable. After a crash it rewrites what is already on the disk.
     */
    private void rewriteNewestJournalSegment() throws IOException {
        Path newest;
        try (var segments = java.nio.file.Files.list(journal.dir())) {
            newest = segments.filter(p -> p.getFileName().toString().endsWith(".rwj")).max(java.util.Comparator.naturalOrder()).orElse(null);
        }
        if (newest == null) {
            return;
        }
        try (var c = java.nio.channels.FileChannel.open(newest, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            long size = c.size();
            for (long at = 0; at < size; at += chunk.limit()) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), size - at));
                while (chunk.hasRemaining() && c.read(chunk, at + chunk.position()) >= 0) {
                    // reads up to the limit
                }
                chunk.flip();
                while (chunk.hasRemaining()) {
                    c.write(chunk, at + chunk.position());
                }
            }
            c.force(true);
        }
    }

    public SetRecord record() {
        return set;
    }

    public String name() {
        return set.name();
    }

    public UUID uuid() {
        return set.uuid();
    }

    /** What this open had to repair (always the same for the life of the open; see {@link #isRecoveredAfterUncleanStop}). */
    /** Why a set refuses writes (its first I/O error on the write path) and since when. */
    public record Stopped(String cause, Instant since) {
    }

    /**
     * Set once a write, flush or checkpoint failed: nothing is known of what reached the disk, so
     * every later write fails until the set is reopened, which runs recovery; empty while it
     * takes writes.
     */
    public Optional<Stopped> stopped() {
        return path.stopped();
    }

    public RecoveryReport recovery() {
        return recovery;
    }

    /**
     * Whether the set was recovered after an unclean stop and has not been checked since: true
     * from an open that had to repair anything until a {@link #verify} passes. A set that was
     * closed cleanly opens with nothing to repair, so a clean close and a reopen clear it too.
     */
    public boolean isRecoveredAfterUncleanStop() {
        return recoveredAfterUncleanStop;
    }

    public List<BlockDevice> devices() {
        return List.copyOf(devices);
    }

    public BlockDevice device(String memberName) {
        for (BlockDevice d : devices) {
            if (d.name().equals(memberName)) {
                return d;
            }
        }
        throw new RewindException("set " + set.name() + " has no member " + memberName + "; members: "
                + devices.stream().map(BlockDevice::name).toList());
    }

    public int memberIndex(String memberName) {
        for (int i = 0; i < devices.size(); i++) {
            if (devices.get(i).name().equals(memberName)) {
                return i;
            }
        }
        throw new RewindException("set " + set.name() + " has no member " + memberName);
    }

    public Journal journal() {
        return journal;
    }

    public long lastSeq() {
        return journal.lastSeq();
    }

    public long flushedSeq() {
        return journal.durableSeq();
    }

    /** The oldest seq the history on hand can bring back (a transaction boundary). */
    public long oldestSeq() {
        return history.oldestSeq();
    }

    /** The oldest seq from which every later single write can be brought back. */
    public long oldestExactSeq() {
        return history.oldestExactSeq();
    }

    /** The set's history: reading the past, its transactions and increments. */
    public SetHistory history() {
        return history;
    }

    // ---- transactions ----

    /** Cuts the open transaction now; empty if nothing was written since the last cut. */
    public Optional<Transaction> cut(CutReason reason) throws IOException {
        checkNotFailed();
        return transactions.cut(reason);
    }

    /**
     * The seq a new bookmark names, made to last: {@code seq}, or the newest write if empty. A
     * seq after the newest transaction boundary becomes one (the open transaction is cut there,
     * which also makes it durable: a power cut cannot move it, and its seq is never given to
     * another write); an older one is durable already and stays an exact write, which the
     * every-write horizon keeps while the bookmark exists ({@link #historyPins}). Refused on a set
     * whose restore in place is running or was cut short: it holds a state no one wrote.
     */
    public long bookmarkPoint(OptionalLong seq) throws IOException {
        checkNotFailed();
        Optional<RestoreIntent> unfinished = inPlace.unfinishedIntent();
        if (unfinished.isPresent()) {
            throw new RewindException("set " + set.name() + " is in the middle of a restore in place to seq "
                    + unfinished.get().targetSeq() + "; a bookmark now would name a state no one wrote. Finish it first ('"
                    + InterruptedRestore.resumeCommand(set.name()) + "' if it was cut short)");
        }
        if (seq.isPresent()) {
            checkRestorable(seq.getAsLong());
        }
        long at;
        try {
            at = transactions.boundaryForBookmark(seq);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new RewindException(e.getMessage());
        }
        checkRestorable(at);
        return at;
    }

    public List<Transaction> transactions() {
        return transactionLog.all();
    }

    public TransactionService transactionService() {
        return transactions;
    }

    /** Changes when transactions are cut, at once. */
    public void cutRules(CutRules rules) {
        transactions.rules(rules);
    }

    /** How long every single write stays restorable (null: forever); applied at once and after every cut. */
    public void keepEveryWrite(Duration horizon) throws IOException {
        this.keepEveryWrite = horizon;
        applyHorizon();
    }

    /**
     * Where to ask for the seqs that must stay placeable: those sandboxes read and bookmarks
     * name. The every-write horizon keeps the journal that each of them which is not a
     * transaction boundary is read from. Asked at each application of the horizon.
     */
    public void historyPins(Supplier<long[]> pinnedSeqs) {
        this.historyPins = pinnedSeqs;
    }

    /**
     * The oldest pinned seq that needs the journal to be read: one that is not a transaction
     * boundary, and still exact; under retention rules, only the bookmarks the rules keep pin
     * (with every boundary kept, every bookmark does).
     */
    private OptionalLong oldestPinNeedingJournal() {
        RetentionPolicy policy = retentionRules;
        Instant now = options.clock().instant();
        java.util.stream.LongStream named = policy.keepsEveryBoundary() ? java.util.Arrays.stream(historyPins.get())
                : retentionPins.get().stream().filter(p -> RetentionPlan.keeps(policy, p, now)).mapToLong(RetentionPlan.Pin::seq);
        return java.util.stream.LongStream.concat(named, readersPins.stream().mapToLong(Long::longValue))
                .filter(seq -> !transactionLog.isBoundary(seq) && seq >= history.oldestExactSeq()).min();
    }

    /** What a pinned read returns. */
    @FunctionalInterface
    private interface PinnedRead<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code read} with {@code seq} pinned, so that no application of the every-write
     * horizon meanwhile (a cut of the rules, of the scheduler) drops the journal it reads; the
     * seq is checked once the pin holds.
     */
    private <T> T pinnedWhile(long seq, PinnedRead<T> read) throws IOException {
        readersPins.add(seq);
        try {
            checkRestorable(seq);
            return read.run();
        } finally {
            readersPins.remove(seq);
        }
    }

    /** The set as it was at {@code seq}, for reading many times; see {@link SetHistory#view(long)}. */
    public SetHistory.PastView pastView(long seq) {
        checkRestorable(seq);
        return history.view(seq);
    }

    public Duration keepEveryWrite() {
        return keepEveryWrite;
    }

    // ---- retention ----

    /** Which points stay (every-write horizon included, applied at once); see {@link RetentionPolicy}. */
    public void retentionPolicy(RetentionPolicy policy) throws IOException {
        this.retentionRules = policy;
        keepEveryWrite(policy.everyWrite());
    }

    public RetentionPolicy retentionPolicy() {
        return retentionRules.withEveryWrite(keepEveryWrite);
    }

    /** Where to ask for the points bookmarks and sandboxes name, for retention; asked at each pass. */
    public void retentionPins(Supplier<List<RetentionPlan.Pin>> pins) {
        this.retentionPins = pins;
    }

    /** The most the secondary may hold (0: no limit): retention fades out more than the rules say to stay under it. */
    public void maxSecondaryBytes(long bytes) {
        this.maxSecondaryBytes = bytes;
    }

    public long maxSecondaryBytes() {
        return maxSecondaryBytes;
    }

    /** What a retention pass would do now: see {@link RetentionPlan}. Changes nothing. */
    public RetentionPlan planRetention() throws IOException {
        Instant now = options.clock().instant();
        List<RetentionPlan.Pin> pins = new ArrayList<>(retentionPins.get());
        for (long seq : readersPins) {
            pins.add(new RetentionPlan.Pin(seq, RetentionPlan.PinKind.READER, now, "read by a restore or clone running now"));
        }
        long max = maxSecondaryBytes;
        long bytes = 0;
        if (max > 0) {
            SetSecondary.Usage usage = secondaryUsage();
            bytes = usage.journalBytes() + usage.incrementBytes() + usage.replicaBytes() + usage.deltaMapBytes();
        }
        return history.planRetention(retentionPolicy(), now, pins, max, bytes);
    }

    /**
     * Carries out a plan of {@link #planRetention}: the points it drops are faded out and their
     * space freed. Refused while a restore in place is unfinished (its writes are not history yet).
     */
    public Retention.Result retain(RetentionPlan plan) throws IOException {
        checkNotFailed();
        Optional<RestoreIntent> unfinished = inPlace.unfinishedIntent();
        if (unfinished.isPresent()) {
            throw new RewindException("set " + set.name() + " is in the middle of a restore in place to seq " + unfinished.get().targetSeq()
                    + "; retention waits until it is finished");
        }
        return history.retain(plan, () -> java.util.stream.Stream.concat(readersPins.stream(),
                        retentionPins.get().stream().filter(p -> p.kind() == RetentionPlan.PinKind.READER).map(RetentionPlan.Pin::seq))
                .mapToLong(Long::longValue).toArray());
    }

    private void applyHorizon() throws IOException {
        Duration horizon = keepEveryWrite;
        if (horizon != null) {
            long freed = history.dropJournalBefore(options.clock().instant().minus(horizon), this::oldestPinNeedingJournal);
            if (freed > 0) {
                LOG.info("set {}: freed {} bytes of journal older than {} (every-write horizon); seqs from {} stay exact",
                        set.name(), freed, Durations.format(horizon), history.oldestExactSeq());
            }
        }
    }

    public JournalRecord journalRecord(long seq) {
        return journal.record(seq);
    }

    // ---- the capture path ----

    /** The capture path's report of one record, for the transactions' count and byte rules. */
    private void recordCaptured(long recordBytes) {
        transactions.captured(recordBytes);
    }

    private long capture(int member, RecordType type, int flags, long offsetBytes, long lengthBytes, ByteBuffer data) throws IOException {
        return path.capture(member, type, flags, offsetBytes, lengthBytes, data);
    }

    /** Makes every write so far durable: the journal is forced (group commit). */
    public void flush() throws IOException {
        path.flush();
    }

    private void flushTo(long seq) throws IOException {
        path.flushTo(seq);
    }

    private void checkNotFailed() throws IOException {
        path.checkNotFailed();
    }

    /**
     * Forces the primaries, then clears the dirty regions that saw no write since the
     * previous checkpoint (see {@link CapturePath}).
     */
    public void checkpoint() throws IOException {
        path.checkpoint();
    }

    private final class MemberDevice implements BlockDevice {
        private final PrimaryMember primary;

        MemberDevice(PrimaryMember primary) {
            this.primary = primary;
        }

        @Override
        public String name() {
            return primary.name();
        }

        @Override
        public long sizeBytes() {
            return primary.sizeBytes();
        }

        @Override
        public void read(long offsetBytes, ByteBuffer dst) throws IOException {
            if (offsetBytes < 0 || offsetBytes + dst.remaining() > primary.sizeBytes()) {
                throw new IllegalArgumentException("read " + offsetBytes + "+" + dst.remaining() + " is outside member " + primary.name());
            }
            primary.read(offsetBytes, dst);
        }

        @Override
        public long write(long offsetBytes, ByteBuffer src, boolean fua) throws IOException {
            return captureThenFlushIf(fua, RecordType.WRITE, offsetBytes, src.remaining(), src);
        }

        @Override
        public long trim(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
            return captureThenFlushIf(fua, RecordType.TRIM, offsetBytes, lengthBytes, null);
        }

        @Override
        public long writeZeroes(long offsetBytes, long lengthBytes, boolean fua) throws IOException {
            return captureThenFlushIf(fua, RecordType.WRITE_ZEROES, offsetBytes, lengthBytes, null);
        }

        /** FUA: the write is durable before it is acknowledged. */
        private long captureThenFlushIf(boolean fua, RecordType type, long offsetBytes, long lengthBytes, ByteBuffer src) throws IOException {
            inPlace.refuseWriteIfUnfinished();
            long seq = capture(primary.index(), type, 0, offsetBytes, lengthBytes, src);
            if (fua) {
                flushTo(seq);
            }
            return seq;
        }

        @Override
        public void flush() throws IOException {
            CapturedSet.this.flush();
        }
    }

    // ---- points in time ----

    /**
     * Checks that {@code seq} is a point the history on hand can bring back and that a user may
     * be handed: not inside the writes of a restore in place (finished, running or cut short).
     * The message says what is.
     */
    public void checkRestorable(long seq) {
        history.checkPlaceable(seq);
        Optional<RestoreIntent> unfinished = inPlace.unfinishedIntent();
        if (unfinished.isPresent() && seq >= unfinished.get().firstRestoreSeq()) {
            throw new RewindException("seq " + seq + " of set " + set.name() + " lies inside a restore in place that has not finished "
                    + "(its writes begin at seq " + unfinished.get().firstRestoreSeq() + "); the newest point before it is seq "
                    + (unfinished.get().firstRestoreSeq() - 1) + ", and '" + InterruptedRestore.resumeCommand(set.name())
                    + "' finishes one that was cut short");
        }
    }

    /**
     * The newest restorable seq at or before {@code time}. A time in the future is refused
     * (it is a typo or a wrong zone, not "now").
     */
    public long seqAtTime(Instant time) {
        return history.seqAtTime(time);
    }

    /** Reads what member {@code memberIndex} held at {@code seq}, without copying the volume. */
    public void readAt(long seq, int memberIndex, long offsetBytes, ByteBuffer dst) throws IOException {
        PrimaryMember primary = primaries.member(memberIndex);
        if (offsetBytes < 0 || offsetBytes + dst.remaining() > primary.sizeBytes()) {
            throw new IllegalArgumentException("read " + offsetBytes + "+" + dst.remaining() + " is outside member " + primary.name());
        }
        history.read(seq, memberIndex, offsetBytes, dst);
    }

    /**
     * Rewinds every member in place to seq {@code targetSeq}; see {@link InPlaceRestore}. Only
     * the blocks changed after the target are read and written, everything read and checked
     * first. The restore's writes are journaled (flagged as a restore), so restoring to the
     * seq before them undoes it.
     */
    public RestoreResult restoreInPlace(long targetSeq, ProgressListener progress) throws IOException {
        return pinnedWhile(targetSeq, () -> asOneTransaction(() -> inPlace.restoreTo(targetSeq, progress)));
    }

    /** Finishes the restore in place that was interrupted, so that the set equals its target exactly. */
    public RestoreResult resumeRestore(ProgressListener progress) throws IOException {
        return asOneTransaction(() -> inPlace.resume(progress));
    }

    /**
     * A restore in place is a transaction of its own: cut just before its first write (so the
     * point to undo it to is a boundary), never inside it, and just after its last. A restore
     * that continues or supersedes one cut short adds to the writes already after the last
     * boundary, which began with such a cut.
     */
    private RestoreResult asOneTransaction(TransactionService.TransactionBody<RestoreResult> restore) throws IOException {
        checkNotFailed();
        boolean continuing = inPlace.isUnfinished();
        try {
            return transactions.asOneTransaction(CutReason.RESTORE, !continuing, restore);
        } finally {
            transactions.poke(); // cuts held back while it ran may be due
        }
    }

    /** The restore in place found cut short (at open, or failed since), with how far it got; empty if none. */
    public Optional<InterruptedRestore> interruptedRestore() {
        return inPlace.interrupted();
    }

    /** Whether a restore in place is running or was cut short: the members must be neither written nor served as they are now. */
    public boolean isRestoreUnfinished() {
        return inPlace.isUnfinished();
    }

    /** What a restore to {@code targetSeq} would rewrite, without reading or changing anything. */
    public RestorePlan planRestore(long targetSeq) throws IOException {
        checkRestorable(targetSeq);
        List<String> names = primaries.members().stream().map(PrimaryMember::name).toList();
        long[] sizes = primaries.members().stream().mapToLong(PrimaryMember::sizeBytes).toArray();
        return inPlace.plan(targetSeq, names, sizes);
    }

    /** For tests: above this much changed data, a restore in place takes the verify-pass-then-write-pass path. */
    void stagedRestoreBytes(long bytes) {
        inPlace.stagedRestoreBytes(bytes);
    }

    /**
     * Writes one file per member into {@code dir} ({@code <member>.img}), each identical to
     * that member at {@code targetSeq}; see {@link Clone}.
     */
    public List<Path> cloneTo(long targetSeq, Path dir, ProgressListener progress) throws IOException {
        return pinnedWhile(targetSeq, () -> Clone.write(history, primaries, targetSeq, journal.lastSeq(), dir, progress));
    }

    /**
     * Reads and checks every journal record, increment chunk and replica chunk; returns the
     * records verified. Passing clears {@link #isRecoveredAfterUncleanStop}.
     */
    public long verify() throws IOException {
        long records = journal.verify();
        history.verifyIncrements();
        for (ReplicaImage r : replicas) {
            r.verify();
        }
        recoveredAfterUncleanStop = false;
        return records;
    }

    public SetSecondary.Usage secondaryUsage() throws IOException {
        return SetSecondary.usage(set.secondaryDir(), journal, increments, history.spans().sizeBytes());
    }

    /**
     * Shares this open set with another user (a command run by the daemon): each
     * {@code retain} is matched by one {@link #close}; the last close really closes.
     */
    public synchronized CapturedSet retain() {
        if (closed) {
            throw new IllegalStateException("set " + set.name() + " is closed");
        }
        references++;
        return this;
    }

    /** Closes cleanly, once the last user has closed: journal flushed, primaries forced, dirty regions cleared. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed || --references > 0) {
                return;
            }
        }
        transactions.close();
        if (checkpointer != null) {
            checkpointer.shutdown(); // never shutdownNow: an interrupt would close the file channels under a running checkpoint
            try {
                checkpointer.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            path.close();
            closed = true;
        } finally {
            closeQuietly(journal);
            closeQuietly(drl);
            for (ReplicaImage r : replicas) {
                closeQuietly(r);
            }
            closeQuietly(transactionLog);
            closeQuietly(increments);
            closeQuietly(primaries);
            closeQuietly(lock);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("error while closing: {}", e.toString());
        }
    }
}
