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
 * {@link #close}. Appends are serialized by the caller's sequencer or by this object's lock.
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
    private final ByteBuffer headerBuffer = ByteBuffer.allocate(JournalSegment.RECORD_HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
    private final ByteBuffer appendScratch = ByteBuffer.allocateDirect(JournalSegment.COALESCE_BYTES);
    private final Object syncLock = new Object();
    private final long truncatedBytesAtOpen;
    private long lastTimeMicros;
    private volatile long durableSeq;
    private volatile boolean closed;
    /** The first write or force that failed; from then on appends and flushes fail until the journal is reopened. */
    private volatile IOException failure;

    private Journal(Path dir, UUID setUuid, long segmentSizeBytes, Clock clock, JournalIndex index,
                    List<JournalSegment> segments, long truncatedBytesAtOpen) {
        this.dir = dir;
        this.setUuid = setUuid;
        this.segmentSizeBytes = segmentSizeBytes;
        this.clock = clock;
        this.index = index;
        this.segments = segments.toArray(new JournalSegment[0]);
        this.truncatedBytesAtOpen = truncatedBytesAtOpen;
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
        journal.durableSeq = index.lastSeq();
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

    /** The newest seq appended, or {@code firstSeq() - 1} if none. */
    public long lastSeq() {
        return index.lastSeq();
    }

    /** The newest seq known to be on stable storage. */
    public long durableSeq() {
        return durableSeq;
    }

    /**
     * Appends one numbered event and returns its seq. For WRITE, {@code payload} holds
     * exactly {@code lengthBytes} bytes (its position is left unchanged); otherwise it is null.
     */
    public synchronized long append(RecordType type, int flags, int memberIndex, long offsetBytes, int lengthBytes, ByteBuffer payload)
            throws IOException {
        if (closed) {
            throw new IOException("journal " + dir + " is closed");
        }
        checkNotFailed();
        if (!type.isNumbered()) {
            throw new IllegalArgumentException(type + " is not a numbered event");
        }
        int payloadBytes = type == RecordType.WRITE ? lengthBytes : 0;
        if ((payload == null ? 0 : payload.remaining()) != payloadBytes) {
            throw new IllegalArgumentException(type + " of " + lengthBytes + " bytes needs a payload of " + payloadBytes
                    + " bytes, got " + (payload == null ? "none" : payload.remaining()));
        }
        if (payloadBytes > MAX_RECORD_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("record payload of " + payloadBytes + " bytes is over the limit");
        }
        long seq = index.lastSeq() + 1;
        long time = nextTimeMicros();
        long location;
        try {
            location = appendRecord(type, flags, memberIndex, seq, time, offsetBytes, lengthBytes, payload);
        } catch (IOException e) {
            throw failed(e);
        }
        index.add(seq, type, flags, memberIndex, offsetBytes, lengthBytes, time, location);
        return seq;
    }

    /**
     * Remembers the first I/O error. After a failed write or force nothing is known about
     * what reached the disk (a retried fsync succeeds without the pages the failed one
     * dropped), so nothing more is appended or declared durable: recovery at the next open
     * decides what survived.
     */
    private IOException failed(IOException e) {
        if (failure == null) {
            failure = e;
        }
        return e;
    }

    private void checkNotFailed() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException("journal " + dir + " stopped after an I/O error (" + f.getMessage()
                    + "); close and reopen the set to recover", f);
        }
    }

    private long nextTimeMicros() {
        long now = micros(clock.instant());
        lastTimeMicros = Math.max(lastTimeMicros, now);
        return lastTimeMicros;
    }

    private long appendRecord(RecordType type, int flags, int memberIndex, long seq, long time, long offsetBytes, int lengthBytes,
                              ByteBuffer payload) throws IOException {
        int payloadBytes = payload == null ? 0 : payload.remaining();
        int payloadCrc = 0;
        if (payload != null) {
            CRC32C crc = new CRC32C();
            crc.update(payload.duplicate());
            payloadCrc = (int) crc.getValue();
        }
        JournalSegment seg = segments[segments.length - 1];
        long recordBytes = JournalSegment.RECORD_HEADER_BYTES + (long) payloadBytes;
        if (seg.sizeBytes() + recordBytes > segmentSizeBytes && seg.sizeBytes() > JournalSegment.SEGMENT_HEADER_BYTES
                && type.isNumbered()) {
            seg = roll(seq);
        }
        JournalSegment.encodeHeader(headerBuffer, type, flags, memberIndex, seq, time, offsetBytes, lengthBytes, payloadBytes, payloadCrc);
        long position = seg.append(headerBuffer, payload == null ? null : payload.duplicate(), appendScratch);
        return JournalIndex.location(seg.ordinal(), position);
    }

    /** Seals the current segment (forcing it, so a sealed segment never has a torn tail) and starts a new one. */
    private JournalSegment roll(long firstSeqOfNew) throws IOException {
        JournalSegment[] current = segments;
        current[current.length - 1].force();
        JournalSegment next = JournalSegment.create(dir, setUuid, firstSeqOfNew, current.length, micros(clock.instant()));
        JournalSegment[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = next;
        segments = grown;
        return next;
    }

    /**
     * Makes every seq appended before this call durable. Concurrent callers share one
     * {@code force}: the first to take the sync lock forces for all who arrived before it.
     */
    public void flush() throws IOException {
        checkNotFailed();
        long target = lastSeq();
        if (durableSeq >= target) {
            return;
        }
        synchronized (syncLock) {
            checkNotFailed();
            if (durableSeq >= target) {
                return;
            }
            long upTo;
            JournalSegment seg;
            try {
                synchronized (this) {
                    upTo = index.lastSeq();
                    appendRecord(RecordType.FLUSH_MARK, 0, 0, 0, nextTimeMicros(), upTo, 0, null);
                    seg = segments[segments.length - 1];
                }
                seg.force();
            } catch (IOException e) {
                throw failed(e);
            }
            durableSeq = upTo;
        }
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
        return index.lastSeqAtOrBefore(micros(time));
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
        IOException first = null;
        try {
            flush();
        } catch (IOException e) {
            first = e; // the segments are closed all the same
        }
        closed = true;
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
