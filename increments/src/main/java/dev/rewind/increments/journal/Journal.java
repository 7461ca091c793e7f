package dev.rewind.increments.journal;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.Times;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append-only journal of one production volume set: every write, trim and
 * write-zeroes, numbered 1, 2, 3, ... in the order they were captured, in checksummed
 * segment files on the secondary.
 *
 * <p>Life: {@link #open} (runs recovery: a torn tail of the newest segment is truncated,
 * a bad record anywhere else is corruption and refused), {@link #append}, {@link #flush}
 * (group commit: concurrent callers share one {@code force}), {@link #readPayload},
 * {@link #close}.
 *
 * <p>Appending is two steps, so that only the first is serialized: {@link #reserve} (under
 * this object's lock: the seq, the time and the record's place in the newest segment, in seq
 * order) and {@link #write} (outside any lock: checksum, copy and write). {@link #lastSeq} is
 * the newest seq with no unwritten record at or below it; {@link #flush} forces from one
 * dedicated thread ({@link GroupCommit}) once every record up to the flushed seq is written.
 * A crash can leave a reserved record unwritten with later records after it: recovery sees
 * that hole as the torn tail of the newest segment and truncates there (nothing at or after
 * it was ever acknowledged by a flush). Segments roll only after every record reserved in
 * the old one is written and forced, so a sealed segment never holds a hole.
 */
public final class Journal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
    /** The largest payload one record may carry. */
    public static final int MAX_RECORD_PAYLOAD_BYTES = 32 << 20;

    private final Path dir;
    private final UUID setUuid;
    private final long segmentSizeBytes;
    private final Clock clock;
    private final JournalIndex index;
    private final boolean readOnly;
    private final JournalIndex.Rebuilder rebuilder;
    /** Each writing thread's buffer for encoding a header and, for small records, copying the payload behind it. */
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(JournalSegment.COALESCE_BYTES).order(ByteOrder.BIG_ENDIAN));
    private final long truncatedBytesAtOpen;
    /** Null when read-only. */
    private final GroupCommit groupCommit;
    private long lastTimeMicros;
    private volatile boolean closed;
    /** Bytes reserved since open, and how many of them the last force began after. */
    private volatile long reservedBytes;
    private volatile long forcedBytes;

    private Journal(Path dir, UUID setUuid, long segmentSizeBytes, Clock clock, JournalLoader.Loaded loaded, boolean readOnly) {
        this.dir = dir;
        this.setUuid = setUuid;
        this.segmentSizeBytes = segmentSizeBytes;
        this.clock = clock;
        this.index = loaded.index();
        this.readOnly = readOnly;
        this.rebuilder = loaded.rebuilder();
        this.truncatedBytesAtOpen = loaded.truncatedBytes();
        this.lastTimeMicros = loaded.lastTimeMicros();
        this.groupCommit = readOnly ? null : new GroupCommit(dir.toString(), loaded.index().lastSeq(), new GroupCommit.Forcer() {
            @Override
            public long markAndForce(long writtenSeq) throws IOException {
                return Journal.this.markAndForce(writtenSeq);
            }

            @Override
            public long unforcedBytes() {
                return reservedBytes - forcedBytes;
            }
        });
    }

    /**
     * Opens (creating if needed) the journal in {@code dir}, recovers it ({@link JournalLoader}),
     * and forces what survived, so that every seq it holds is durable when this returns.
     *
     * @param firstSeq the seq the journal starts at when it is empty
     */
    public static Journal open(Path dir, UUID setUuid, long firstSeq, long segmentSizeBytes, Clock clock) throws IOException {
        return open(dir, setUuid, firstSeq, segmentSizeBytes, clock, 0);
    }

    /**
     * As {@link #open(Path, UUID, long, long, Clock)}, for a journal whose writes up to
     * {@code committedSeq} are known to have been made durable (a committed transaction holds
     * them): a bad record at or below it is corruption, refused with its location, never cut
     * off as a torn tail, and a journal that ends before it is refused as having lost records.
     */
    public static Journal open(Path dir, UUID setUuid, long firstSeq, long segmentSizeBytes, Clock clock, long committedSeq)
            throws IOException {
        JournalLoader.Loaded loaded = JournalLoader.load(dir, setUuid, firstSeq, Times.micros(clock.instant()), false, committedSeq);
        try {
            loaded.index().active().segment().force();
        } catch (IOException | RuntimeException e) {
            closeSegments(loaded.index());
            throw e;
        }
        return new Journal(dir, setUuid, segmentSizeBytes, clock, loaded, false);
    }

    /**
     * Opens the journal in {@code dir} for reading only, for commands that only look: nothing
     * is truncated or written (a torn tail is left on disk and its records are not served), no
     * force thread runs, and {@link #reserve}, {@link #append}, {@link #flush} and their kin
     * throw {@link IllegalStateException}. Index files are used when valid, never rewritten.
     */
    public static Journal openReadOnly(Path dir, UUID setUuid) throws IOException {
        JournalLoader.Loaded loaded = JournalLoader.load(dir, setUuid, 0, 0, true, 0);
        return new Journal(dir, setUuid, DEFAULT_SEGMENT_BYTES, Clock.systemUTC(), loaded, true);
    }

    public Path dir() {
        return dir;
    }

    /** Bytes dropped from a torn tail when this journal was opened. */
    public long truncatedBytesAtOpen() {
        return truncatedBytesAtOpen;
    }

    /** When the oldest segment was started: the history on hand reaches back to this instant. */
    public Instant startedAt() {
        long micros = index.parts()[0].segment().createdMicros();
        return Times.ofMicros(micros);
    }

    /** The oldest seq this journal holds (history before it lives in the replica). */
    public long firstSeq() {
        return index.firstSeq();
    }

    /**
     * The newest seq appended with every record at or below it written, or {@code firstSeq() - 1}
     * if none; a record still being written (and every seq after it) is not counted yet.
     */
    public long lastSeq() {
        return readOnly ? index.lastSeq() : groupCommit.writtenSeq();
    }

    /** The newest seq reserved, written or not. */
    public long reservedSeq() {
        return index.lastSeq();
    }

    /** The newest seq known to be on stable storage. */
    public long durableSeq() {
        return readOnly ? index.lastSeq() : groupCommit.durableSeq();
    }

    /**
     * Appends one numbered event and returns its seq ({@link #reserve}, then {@link #write}).
     * For WRITE, {@code payload} holds exactly {@code lengthBytes} bytes (its position is left
     * unchanged); otherwise it is null.
     */
    public long append(RecordType type, int flags, int memberIndex, long offsetBytes, int lengthBytes, ByteBuffer payload)
            throws IOException {
        checkPayload(type, lengthBytes, payload);
        Reservation r = reserve(type, flags, memberIndex, offsetBytes, lengthBytes);
        write(r, payload);
        return r.seq;
    }

    /** A numbered record's seq and place in the journal, taken by {@link #reserve} and to be filled by {@link #write}. */
    public static final class Reservation {
        private final long seq;
        private final RecordType type;
        private final int flags;
        private final int memberIndex;
        private final long offsetBytes;
        private final int lengthBytes;
        private final long timeMicros;
        private final JournalSegment segment;
        private final long position;

        private Reservation(long seq, RecordType type, int flags, int memberIndex, long offsetBytes, int lengthBytes, long timeMicros,
                            JournalSegment segment, long position) {
            this.seq = seq;
            this.type = type;
            this.flags = flags;
            this.memberIndex = memberIndex;
            this.offsetBytes = offsetBytes;
            this.lengthBytes = lengthBytes;
            this.timeMicros = timeMicros;
            this.segment = segment;
            this.position = position;
        }

        public long seq() {
            return seq;
        }
    }

    /**
     * Takes the next seq and reserves the record's place in the newest segment (rolling to a new
     * segment when it is full). The only serialized step of an append: the caller must then
     * {@link #write} the record, or {@link #abandon} it, which ends the journal's writing.
     */
    public synchronized Reservation reserve(RecordType type, int flags, int memberIndex, long offsetBytes, int lengthBytes)
            throws IOException {
        checkWritable();
        if (closed) {
            throw new IOException("journal " + dir + " is closed");
        }
        groupCommit.checkNotFailed();
        if (!type.isNumbered()) {
            throw new IllegalArgumentException(type + " is not a numbered event");
        }
        int payloadBytes = type == RecordType.WRITE ? lengthBytes : 0;
        if (payloadBytes > MAX_RECORD_PAYLOAD_BYTES || lengthBytes < 0) {
            throw new IllegalArgumentException("record payload of " + payloadBytes + " bytes is over the limit");
        }
        long seq = index.lastSeq() + 1;
        groupCommit.awaitRoomFor(seq);
        long time = nextTimeMicros();
        long recordBytes = JournalSegment.RECORD_HEADER_BYTES + (long) payloadBytes;
        JournalSegment seg = index.active().segment();
        if (seg.sizeBytes() + recordBytes > segmentSizeBytes && seg.sizeBytes() > JournalSegment.SEGMENT_HEADER_BYTES) {
            try {
                seg = roll(seq);
            } catch (IOException e) {
                groupCommit.fail(e); // a segment half sealed or half created: nothing more is appended
                throw e;
            }
        }
        long position = seg.reserve(recordBytes);
        reservedBytes += recordBytes;
        index.add(seq, type, flags, memberIndex, offsetBytes, lengthBytes, time, position);
        return new Reservation(seq, type, flags, memberIndex, offsetBytes, lengthBytes, time, seg, position);
    }

    /**
     * Writes a reserved record; many threads may write at once, in any order. For WRITE,
     * {@code payload} holds exactly the reserved length (its position is left unchanged). A
     * failure here ends the journal's writing: the hole it leaves is never filled.
     */
    public void write(Reservation r, ByteBuffer payload) throws IOException {
        checkWritable();
        try {
            checkPayload(r.type, r.lengthBytes, payload);
        } catch (IllegalArgumentException e) {
            abandon(r, new IOException(e.getMessage(), e));
            throw e;
        }
        int payloadCrc = 0;
        if (payload != null) {
            CRC32C crc = new CRC32C();
            crc.update(payload.duplicate());
            payloadCrc = (int) crc.getValue();
        }
        ByteBuffer scratch = SCRATCH.get();
        JournalSegment.encodeHeader(scratch, r.type, r.flags, r.memberIndex, r.seq, r.timeMicros, r.offsetBytes, r.lengthBytes,
                payload == null ? 0 : payload.remaining(), payloadCrc);
        try {
            r.segment.write(r.position, scratch, payload == null ? null : payload.duplicate());
        } catch (IOException | RuntimeException e) {
            groupCommit.fail(e instanceof IOException io ? io : new IOException(e.toString(), e));
            throw e;
        }
        groupCommit.written(r.seq);
    }

    /** Gives up a reserved record that cannot be written: the journal stops writing (the set must be reopened). */
    public void abandon(Reservation r, IOException cause) {
        checkWritable();
        r.segment.abandon();
        groupCommit.fail(cause);
    }

    private static void checkPayload(RecordType type, int lengthBytes, ByteBuffer payload) {
        int payloadBytes = type == RecordType.WRITE ? lengthBytes : 0;
        if ((payload == null ? 0 : payload.remaining()) != payloadBytes) {
            throw new IllegalArgumentException(type + " of " + lengthBytes + " bytes needs a payload of " + payloadBytes
                    + " bytes, got " + (payload == null ? "none" : payload.remaining()));
        }
    }

    private long nextTimeMicros() {
        long now = Times.micros(clock.instant());
        lastTimeMicros = Math.max(lastTimeMicros, now);
        return lastTimeMicros;
    }

    /**
     * Seals the current segment and starts a new one. Called under the lock: waits for the records
     * still being written into the old segment, then forces it, so a sealed segment never has a
     * torn tail or a hole; then writes the sealed segment's index file and serves its entries
     * from that file (mapped) instead of the heap.
     */
    private JournalSegment roll(long firstSeqOfNew) throws IOException {
        JournalIndex.Part sealing = index.active();
        JournalSegment old = sealing.segment();
        old.awaitPendingWrites();
        groupCommit.checkNotFailed();
        old.force();
        SegmentEntries entries = sealing.entries();
        SegmentIndexFile.write(old.path(), old.firstSeq(), old.sizeBytes(), entries);
        SegmentIndexFile.Opened mapped = SegmentIndexFile.open(old.path(), old.firstSeq(), old.sizeBytes());
        if (mapped.index() != null && mapped.index().count() == entries.count()) {
            sealing.replaceEntries(mapped.index());
        } else {
            LOG.warn("journal {}: keeping the index of sealed segment {} in memory: {}", dir, old.path(), mapped.problem());
        }
        JournalSegment next = JournalSegment.create(dir, setUuid, firstSeqOfNew, Times.micros(clock.instant()));
        index.addActive(next, rebuilder);
        return next;
    }

    /**
     * Makes every seq appended before this call durable. Concurrent callers share one
     * {@code force}, done by the journal's force thread.
     */
    public void flush() throws IOException {
        checkWritable();
        flushTo(index.lastSeq());
    }

    /** Makes every seq up to {@code seq} durable (and any later ones written by then). */
    public void flushTo(long seq) throws IOException {
        checkWritable();
        groupCommit.flushTo(seq);
    }

    /**
     * The force thread's step: a FLUSH_MARK saying that every seq up to {@code writtenSeq} is
     * written, then one force of the segment holding the mark (older segments were forced when
     * they were sealed). Returns the seq now durable.
     */
    private long markAndForce(long writtenSeq) throws IOException {
        JournalSegment seg;
        long position;
        long time;
        synchronized (this) {
            time = nextTimeMicros();
            seg = index.active().segment();
            position = seg.reserve(JournalSegment.RECORD_HEADER_BYTES);
            forcedBytes = reservedBytes;
        }
        ByteBuffer scratch = SCRATCH.get();
        JournalSegment.encodeHeader(scratch, RecordType.FLUSH_MARK, 0, 0, 0, time, writtenSeq, 0, 0, 0);
        seg.write(position, scratch, null);
        seg.force();
        return writtenSeq;
    }

    public JournalRecord record(long seq) {
        return index.record(seq);
    }

    public int memberOf(long seq) {
        return index.member(seq);
    }

    public long offsetOf(long seq) {
        return index.offset(seq);
    }

    public int lengthOf(long seq) {
        return index.length(seq);
    }

    public RecordType typeOf(long seq) {
        return index.type(seq);
    }

    public long timeMicrosOf(long seq) {
        return index.time(seq);
    }

    /** The newest seq at or before {@code time}, or {@code firstSeq() - 1} if every record is younger. */
    public long lastSeqAtOrBefore(Instant time) {
        return Math.min(index.lastSeqAtOrBefore(Times.micros(time)), lastSeq());
    }

    /** Bytes a buffer needs beyond a payload's length for {@link #readPayload} to read it with one system call. */
    public static final int READ_OVERHEAD_BYTES = JournalSegment.RECORD_HEADER_BYTES;

    /**
     * Reads the whole payload of WRITE {@code seq} into {@code dst} (at its position) after
     * checking the record's checksums; a mismatch throws {@link CorruptDataException} naming
     * file and offset. With {@link #READ_OVERHEAD_BYTES} to spare in {@code dst}, header and
     * payload come in one read.
     */
    public void readPayload(long seq, ByteBuffer dst) throws IOException {
        JournalIndex.Part part = index.partOf(seq);
        SegmentEntries entries = part.entries();
        int slot = (int) (seq - part.firstSeq());
        if (entries.type(slot) != RecordType.WRITE) {
            throw new IllegalArgumentException("seq " + seq + " is a " + entries.type(slot) + ", which carries no payload");
        }
        JournalSegment seg = part.segment();
        long position = entries.position(slot);
        int length = entries.length(slot);
        JournalSegment.Header header;
        if (dst.remaining() >= length + JournalSegment.RECORD_HEADER_BYTES) {
            header = seg.readRecord(position, length, dst);
        } else {
            header = readHeader(seg, position);
            checkHeader(seq, RecordType.WRITE, seg, position, header);
            seg.readPayload(position, header, dst);
            return;
        }
        checkHeader(seq, RecordType.WRITE, seg, position, header);
    }

    private static JournalSegment.Header readHeader(JournalSegment seg, long position) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(JournalSegment.RECORD_HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        String[] why = new String[1];
        JournalSegment.Header header = seg.readHeader(h, position, why);
        if (header == null) {
            throw new CorruptDataException(seg.path(), position, why[0]);
        }
        return header;
    }

    private static void checkHeader(long seq, RecordType type, JournalSegment seg, long position, JournalSegment.Header header) {
        if (header.seq() != seq || header.type() != type) {
            throw new CorruptDataException(seg.path(), position, "expected " + type + " seq " + seq + ", found " + header.type()
                    + " seq " + header.seq());
        }
    }

    /**
     * Reads every record, checking every header and payload checksum and that each record is
     * where and what its index says (sealed segments are scanned whole, flush marks included);
     * returns the number of records verified.
     */
    public long verify() throws IOException {
        JournalIndex.Part[] parts = index.parts();
        for (int p = 0; p < parts.length - 1; p++) {
            SegmentEntries scanned = JournalLoader.scanSealedHeaders(dir, parts[p].segment());
            checkSameEntries(parts[p].segment(), parts[p].entries(), scanned);
        }
        ByteBuffer buf = ByteBuffer.allocate(MAX_RECORD_PAYLOAD_BYTES);
        long count = 0;
        for (long seq = parts[0].firstSeq(); seq <= lastSeq(); seq++) {
            JournalIndex.Part part = index.partOf(seq);
            int slot = (int) (seq - part.firstSeq());
            RecordType type = part.entries().type(slot);
            if (type == RecordType.WRITE) {
                buf.clear();
                readPayload(seq, buf);
            } else {
                long position = part.entries().position(slot);
                checkHeader(seq, type, part.segment(), position, readHeader(part.segment(), position));
            }
            count++;
        }
        return count;
    }

    private static void checkSameEntries(JournalSegment seg, SegmentEntries indexed, SegmentEntries scanned) {
        Path file = SegmentIndexFile.pathFor(seg.path());
        if (indexed.count() != scanned.count()) {
            throw new CorruptDataException(file, 32, "index counts " + indexed.count() + " records, " + seg.path() + " holds "
                    + scanned.count());
        }
        for (int i = 0; i < scanned.count(); i++) {
            if (indexed.position(i) != scanned.position(i) || indexed.type(i) != scanned.type(i) || indexed.flags(i) != scanned.flags(i)
                    || indexed.member(i) != scanned.member(i) || indexed.offset(i) != scanned.offset(i)
                    || indexed.length(i) != scanned.length(i) || indexed.time(i) != scanned.time(i)) {
                throw new CorruptDataException(file, SegmentIndexFile.HEADER_BYTES + (long) i * SegmentIndexFile.ENTRY_BYTES,
                        "index entry of seq " + (seg.firstSeq() + i) + " does not match the record at offset " + scanned.position(i)
                                + " of " + seg.path());
            }
        }
    }

    /**
     * Deletes the oldest sealed segments, with their index files, for a history horizon: oldest
     * first, each whose last seq is at or below {@code coveredSeq} and whose newest record is
     * older than {@code olderThan}, stopping at the first that is not; never the active segment.
     * Then forces the directory. {@link #firstSeq()} and {@link #startedAt()} follow the oldest
     * segment left; a deleted seq is no longer in the journal. A crash part way leaves the
     * newer segments, a valid journal. Appends and flushes may run meanwhile; the caller keeps
     * its own readers of the deleted seqs away. Returns the bytes freed.
     */
    public long deleteSegmentsUpTo(long coveredSeq, Instant olderThan) throws IOException {
        checkWritable();
        long olderThanMicros = olderThan.getEpochSecond() >= Long.MAX_VALUE / 1_000_000L ? Long.MAX_VALUE : Times.micros(olderThan);
        JournalIndex.Part[] doomed;
        synchronized (this) {
            if (closed) {
                throw new IOException("journal " + dir + " is closed");
            }
            JournalIndex.Part[] parts = index.parts();
            int n = 0;
            while (n < parts.length - 1 && qualifiesForDeletion(parts[n], coveredSeq, olderThanMicros)) {
                n++;
            }
            if (n == 0) {
                return 0;
            }
            doomed = Arrays.copyOf(parts, n);
            index.dropOldest(n);
        }
        long freed = 0;
        for (JournalIndex.Part part : doomed) {
            JournalSegment seg = part.segment();
            Path indexFile = SegmentIndexFile.pathFor(seg.path());
            long segmentBytes = Files.size(seg.path());
            seg.close();
            Files.delete(seg.path());
            freed += segmentBytes;
            if (Files.exists(indexFile)) {
                freed += Files.size(indexFile);
                Files.delete(indexFile);
            }
        }
        JournalSegment.forceDirectory(dir);
        LOG.info("journal {}: deleted {} segments up to seq {} ({} bytes)", dir, doomed.length,
                doomed[doomed.length - 1].lastSeq(), freed);
        return freed;
    }

    private static boolean qualifiesForDeletion(JournalIndex.Part part, long coveredSeq, long olderThanMicros) {
        if (part.lastSeq() > coveredSeq) {
            return false;
        }
        SegmentEntries entries = part.entries();
        long newestMicros = entries.count() == 0 ? part.segment().createdMicros() : entries.time(entries.count() - 1);
        return newestMicros < olderThanMicros;
    }

    /** Bytes the journal's segment files hold. */
    public long sizeBytes() {
        long total = 0;
        for (JournalIndex.Part p : index.parts()) {
            total += p.segment().sizeBytes();
        }
        return total;
    }

    private void checkWritable() {
        if (readOnly) {
            throw new IllegalStateException("journal " + dir + " is opened read-only");
        }
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        if (readOnly) {
            closed = true;
            closeSegments(index);
            return;
        }
        try {
            flush();
        } finally {
            closed = true;
            groupCommit.close();
            closeSegments(index);
        }
    }

    private static void closeSegments(JournalIndex index) throws IOException {
        IOException first = null;
        for (JournalIndex.Part p : index.parts()) {
            try {
                p.segment().close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
