package dev.rewind.increments.journal;

import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
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
    private volatile JournalSegment[] segments;
    /** Each writing thread's buffer for encoding a header and, for small records, copying the payload behind it. */
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(JournalSegment.COALESCE_BYTES).order(ByteOrder.BIG_ENDIAN));
    private final long truncatedBytesAtOpen;
    private final GroupCommit groupCommit;
    private long lastTimeMicros;
    private volatile boolean closed;
    /** Bytes reserved since open, and how many of them the last force began after. */
    private volatile long reservedBytes;
    private volatile long forcedBytes;

    private Journal(Path dir, UUID setUuid, long segmentSizeBytes, Clock clock, JournalIndex index,
                    List<JournalSegment> segments, long truncatedBytesAtOpen) {
        this.dir = dir;
        this.setUuid = setUuid;
        this.segmentSizeBytes = segmentSizeBytes;
        this.clock = clock;
        this.index = index;
        this.segments = segments.toArray(new JournalSegment[0]);
        this.truncatedBytesAtOpen = truncatedBytesAtOpen;
        this.groupCommit = new GroupCommit(dir.toString(), index.lastSeq(), new GroupCommit.Forcer() {
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
     * Opens (creating if needed) the journal in {@code dir}, recovers it, and forces what
     * survived, so that every seq it holds is durable when this returns.
     *
     * @param firstSeq the seq the journal starts at when it is empty
     */
    public static Journal open(Path dir, UUID setUuid, long firstSeq, long segmentSizeBytes, Clock clock) throws IOException {
        Files.createDirectories(dir);
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(JournalSegment.SUFFIX)).sorted().toList();
        }
        List<JournalSegment> segments = new ArrayList<>();
        JournalIndex index = null;
        long truncated = 0;
        long lastTime = Long.MIN_VALUE;
        try {
            for (int f = 0; f < files.size(); f++) {
                boolean newest = f == files.size() - 1;
                JournalSegment seg = JournalSegment.open(files.get(f), setUuid, segments.size(), newest);
                if (seg == null) {
                    LOG.warn("journal {}: removing newest segment {} whose header was torn by a crash", dir, files.get(f));
                    truncated += Files.size(files.get(f));
                    Files.delete(files.get(f));
                    JournalSegment.forceDirectory(dir);
                    continue;
                }
                segments.add(seg);
                if (index == null) {
                    index = new JournalIndex(seg.firstSeq());
                } else if (seg.firstSeq() != index.lastSeq() + 1) {
                    throw new CorruptDataException(seg.path(), 32, "segment starts at seq " + seg.firstSeq()
                            + " but the previous one ended at " + index.lastSeq());
                }
                long pos = JournalSegment.SEGMENT_HEADER_BYTES;
                String[] why = new String[1];
                JournalSegment.Scanner scanner = seg.new Scanner();
                while (pos < seg.sizeBytes()) {
                    JournalSegment.Header h = scanner.header(pos, why);
                    if (h != null && pos + JournalSegment.RECORD_HEADER_BYTES + h.payloadBytes() > seg.sizeBytes()) {
                        h = null;
                        why[0] = "record payload runs past the end of the segment";
                    }
                    if (h != null && newest && h.payloadBytes() > 0 && !scanner.payloadIsIntact(pos, h)) {
                        why[0] = "record payload does not match its CRC32C";
                        h = null;
                    }
                    if (h == null) {
                        if (!newest || seg.flushMarksCovering(pos, index.lastSeq() + 1) >= 2) {
                            throw new CorruptDataException(seg.path(), pos, why[0]
                                    + (newest ? " (flush marks after it show it had been forced: corruption, not a torn tail)" : ""));
                        }
                        long dropped = seg.sizeBytes() - pos;
                        LOG.warn("journal {}: truncating torn tail of {} at offset {} ({} bytes): {}", dir, seg.path(), pos, dropped, why[0]);
                        truncated += dropped;
                        seg.truncate(pos);
                        break;
                    }
                    if (h.type().isNumbered()) {
                        if (h.seq() != index.lastSeq() + 1) {
                            throw new CorruptDataException(seg.path(), pos, "record has seq " + h.seq() + ", expected " + (index.lastSeq() + 1));
                        }
                        index.add(h.seq(), h.type(), h.flags(), h.memberIndex(), h.offsetBytes(), h.lengthBytes(), h.timeMicros(),
                                JournalIndex.location(seg.ordinal(), pos));
                        lastTime = Math.max(lastTime, h.timeMicros());
                    }
                    pos += JournalSegment.RECORD_HEADER_BYTES + h.payloadBytes();
                }
            }
            if (segments.isEmpty()) {
                segments.add(JournalSegment.create(dir, setUuid, firstSeq, 0, micros(clock.instant())));
                index = new JournalIndex(firstSeq);
            } else {
                segments.get(segments.size() - 1).force();
            }
        } catch (IOException | RuntimeException e) {
            for (JournalSegment s : segments) {
                s.close();
            }
            throw e;
        }
        Journal journal = new Journal(dir, setUuid, segmentSizeBytes, clock, index, segments, truncated);
        journal.lastTimeMicros = lastTime;
        return journal;
    }

    static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
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
        long micros = segments[0].createdMicros();
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
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
        return groupCommit.writtenSeq();
    }

    /** The newest seq reserved, written or not. */
    public long reservedSeq() {
        return index.lastSeq();
    }

    /** The newest seq known to be on stable storage. */
    public long durableSeq() {
        return groupCommit.durableSeq();
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
        JournalSegment seg = segments[segments.length - 1];
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
        index.add(seq, type, flags, memberIndex, offsetBytes, lengthBytes, time, JournalIndex.location(seg.ordinal(), position));
        return new Reservation(seq, type, flags, memberIndex, offsetBytes, lengthBytes, time, seg, position);
    }

    /**
     * Writes a reserved record; many threads may write at once, in any order. For WRITE,
     * {@code payload} holds exactly the reserved length (its position is left unchanged). A
     * failure here ends the journal's writing: the hole it leaves is never filled.
     */
    public void write(Reservation r, ByteBuffer payload) throws IOException {
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
        long now = micros(clock.instant());
        lastTimeMicros = Math.max(lastTimeMicros, now);
        return lastTimeMicros;
    }

    /**
     * Seals the current segment and starts a new one. Called under the lock: waits for the records
     * still being written into the old segment, then forces it, so a sealed segment never has a
     * torn tail or a hole.
     */
    private JournalSegment roll(long firstSeqOfNew) throws IOException {
        JournalSegment[] current = segments;
        JournalSegment old = current[current.length - 1];
        old.awaitPendingWrites();
        groupCommit.checkNotFailed();
        old.force();
        JournalSegment next = JournalSegment.create(dir, setUuid, firstSeqOfNew, current.length, micros(clock.instant()));
        JournalSegment[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = next;
        segments = grown;
        return next;
    }

    /**
     * Makes every seq appended before this call durable. Concurrent callers share one
     * {@code force}, done by the journal's force thread.
     */
    public void flush() throws IOException {
        flushTo(index.lastSeq());
    }

    /** Makes every seq up to {@code seq} durable (and any later ones written by then). */
    public void flushTo(long seq) throws IOException {
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
            seg = segments[segments.length - 1];
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
        return Math.min(index.lastSeqAtOrBefore(micros(time)), lastSeq());
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
        if (index.type(seq) != RecordType.WRITE) {
            throw new IllegalArgumentException("seq " + seq + " is a " + index.type(seq) + ", which carries no payload");
        }
        long location = index.location(seq);
        JournalSegment seg = segments[JournalIndex.segmentOf(location)];
        long position = JournalIndex.positionOf(location);
        int length = index.length(seq);
        JournalSegment.Header header;
        if (dst.remaining() >= length + JournalSegment.RECORD_HEADER_BYTES) {
            header = seg.readRecord(position, length, dst);
        } else {
            ByteBuffer h = ByteBuffer.allocate(JournalSegment.RECORD_HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
            String[] why = new String[1];
            header = seg.readHeader(h, position, why);
            if (header == null) {
                throw new CorruptDataException(seg.path(), position, why[0]);
            }
            checkHeader(seq, seg, position, header);
            seg.readPayload(position, header, dst);
            return;
        }
        checkHeader(seq, seg, position, header);
    }

    private static void checkHeader(long seq, JournalSegment seg, long position, JournalSegment.Header header) {
        if (header.seq() != seq || header.type() != RecordType.WRITE) {
            throw new CorruptDataException(seg.path(), position, "expected WRITE seq " + seq + ", found " + header.type() + " seq " + header.seq());
        }
    }

    /** Reads every payload and checks every checksum; returns the number of records verified. */
    public long verify() throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(MAX_RECORD_PAYLOAD_BYTES);
        long count = 0;
        for (long seq = firstSeq(); seq <= lastSeq(); seq++) {
            if (typeOf(seq) == RecordType.WRITE) {
                buf.clear();
                readPayload(seq, buf);
            }
            count++;
        }
        return count;
    }

    /** Bytes the journal's segment files hold. */
    public long sizeBytes() {
        long total = 0;
        for (JournalSegment s : segments) {
            total += s.sizeBytes();
        }
        return total;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            flush();
        } finally {
            closed = true;
            groupCommit.close();
            IOException first = null;
            for (JournalSegment s : segments) {
                try {
                    s.close();
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }
}
