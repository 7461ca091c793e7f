package dev.rewind.increments.journal;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.io.StableFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * One journal segment file: a header, then records back to back. This class owns the
 * byte layout of both; every read checks magic, version and CRC32C.
 *
 * <pre>
 * segment header (64 bytes)                 record header (48 bytes), then the payload
 *  0  8  magic "RWNDJSEG"                     0  4  magic "RWJ1"
 *  8  4  version (1)                          4  1  type (RecordType code)
 * 12  4  header length (64)                   5  1  flags (1 = written by a restore)
 * 16 16  set UUID                             6  2  member index
 * 32  8  first seq the segment holds          8  8  seq (0 for marks)
 * 40  8  created, micros since epoch         16  8  time, micros since epoch
 * 48 12  reserved (0)                        24  8  offset in bytes (FLUSH_MARK: seq made durable)
 * 60  4  CRC32C of [0, 60)                   32  4  length in bytes of the range
 *                                            36  4  payload length (= length for WRITE, else 0)
 *                                            40  4  CRC32C of the payload
 *                                            44  4  CRC32C of [0, 44)
 * </pre>
 * Integers are big-endian. A header with its own CRC lets the index be rebuilt from
 * headers alone; the payload CRC is checked whenever a payload is read.
 */
final class JournalSegment implements AutoCloseable {
    static final byte[] SEGMENT_MAGIC = {'R', 'W', 'N', 'D', 'J', 'S', 'E', 'G'};
    static final int VERSION = 1;
    static final int SEGMENT_HEADER_BYTES = 64;
    static final int RECORD_MAGIC = 0x52574A31;
    static final int RECORD_HEADER_BYTES = 48;
    static final String SUFFIX = ".rwj";

    private final Path path;
    private final FileChannel channel;
    private final long firstSeq;
    private final long createdMicros;
    /** The end of the last reserved record: the file may be shorter while writes are in flight. */
    private volatile long sizeBytes;
    private final java.util.concurrent.atomic.AtomicInteger pendingWrites = new java.util.concurrent.atomic.AtomicInteger();

    private JournalSegment(Path path, FileChannel channel, long firstSeq, long createdMicros, long sizeBytes) {
        this.path = path;
        this.channel = channel;
        this.firstSeq = firstSeq;
        this.createdMicros = createdMicros;
        this.sizeBytes = sizeBytes;
    }

    static Path fileFor(Path dir, long firstSeq) {
        return dir.resolve(String.format("%020d%s", firstSeq, SUFFIX));
    }

    /** Creates a new, empty segment and forces it and its directory. */
    static JournalSegment create(Path dir, UUID setUuid, long firstSeq, long nowMicros) throws IOException {
        Path path = fileFor(dir, firstSeq);
        FileChannel c = StableFileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        ByteBuffer h = ByteBuffer.allocate(SEGMENT_HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        h.put(SEGMENT_MAGIC).putInt(VERSION).putInt(SEGMENT_HEADER_BYTES)
                .putLong(setUuid.getMostSignificantBits()).putLong(setUuid.getLeastSignificantBits())
                .putLong(firstSeq).putLong(nowMicros);
        CRC32C crc = new CRC32C();
        crc.update(h.array(), 0, 60);
        h.putInt(60, (int) crc.getValue());
        h.clear();
        writeFully(c, h, 0);
        c.force(true);
        forceDirectory(dir);
        return new JournalSegment(path, c, firstSeq, nowMicros, SEGMENT_HEADER_BYTES);
    }

    /**
     * Opens a segment and checks its header. Returns null if this is the newest segment
     * and its header is torn (a crash while creating it, so nothing follows the header); the caller deletes
     * or ignores it. A segment opened {@code readOnly} cannot be written or truncated.
     */
    static JournalSegment open(Path path, UUID setUuid, boolean isNewest, boolean readOnly) throws IOException {
        FileChannel c = readOnly ? StableFileChannel.open(path, StandardOpenOption.READ)
                : StableFileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer h = ByteBuffer.allocate(SEGMENT_HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
            int n = readFully(c, h, 0);
            boolean mayBeTorn = isNewest && c.size() <= SEGMENT_HEADER_BYTES; // records follow only a header that was forced
            String problem = null;
            if (n < SEGMENT_HEADER_BYTES) {
                problem = "segment header is " + n + " bytes, expected " + SEGMENT_HEADER_BYTES;
            } else {
                byte[] magic = new byte[8];
                h.get(0, magic);
                CRC32C crc = new CRC32C();
                crc.update(h.array(), 0, 60);
                if (!java.util.Arrays.equals(magic, SEGMENT_MAGIC)) {
                    problem = "not a journal segment (bad magic)";
                } else if (h.getInt(60) != (int) crc.getValue()) {
                    if (!mayBeTorn) {
                        throw CorruptDataException.checksum(path, 60, h.getInt(60), (int) crc.getValue());
                    }
                    problem = "segment header checksum";
                } else if (h.getInt(8) != VERSION) {
                    throw new CorruptDataException(path, 8, "journal segment version " + h.getInt(8) + ", this Rewind reads " + VERSION);
                }
            }
            if (problem != null) {
                if (mayBeTorn) {
                    c.close();
                    return null;
                }
                throw new CorruptDataException(path, 0, problem);
            }
            UUID uuid = new UUID(h.getLong(16), h.getLong(24));
            if (!uuid.equals(setUuid)) {
                throw new CorruptDataException(path, 16, "segment belongs to set " + uuid + ", not " + setUuid);
            }
            return new JournalSegment(path, c, h.getLong(32), h.getLong(40), c.size());
        } catch (IOException | RuntimeException e) {
            if (c.isOpen()) {
                c.close();
            }
            throw e;
        }
    }

    Path path() {
        return path;
    }

    long firstSeq() {
        return firstSeq;
    }

    long createdMicros() {
        return createdMicros;
    }

    long sizeBytes() {
        return sizeBytes;
    }

    FileChannel channel() {
        return channel;
    }

    /** Fills the 48-byte header for a record; the payload CRC must already be known. */
    static void encodeHeader(ByteBuffer h, RecordType type, int flags, int memberIndex, long seq, long timeMicros,
                             long offsetBytes, int lengthBytes, int payloadBytes, int payloadCrc) {
        h.clear();
        h.putInt(RECORD_MAGIC).put((byte) type.code()).put((byte) flags).putShort((short) memberIndex)
                .putLong(seq).putLong(timeMicros).putLong(offsetBytes).putInt(lengthBytes).putInt(payloadBytes)
                .putInt(payloadCrc);
        CRC32C crc = new CRC32C();
        h.flip();
        crc.update(h);
        h.limit(RECORD_HEADER_BYTES);
        h.putInt(44, (int) crc.getValue());
        h.position(0);
    }

    /**
     * Reserves {@code recordBytes} at the end of the segment and returns their position. Called
     * under the journal's lock, so reservations follow seq order; the record is written later
     * with {@link #write}, outside the lock, and counted as pending until then.
     */
    long reserve(long recordBytes) {
        long position = sizeBytes;
        sizeBytes = position + recordBytes;
        pendingWrites.incrementAndGet();
        return position;
    }

    /**
     * Writes a reserved record (header, then payload) at {@code position}; safe to call from many
     * threads at once. Records up to {@link #COALESCE_BYTES} go out with one positional write of
     * the caller's {@code scratch} (a direct buffer of that capacity holding the encoded header at
     * its start); larger ones as two positional writes.
     */
    void write(long position, ByteBuffer scratch, ByteBuffer payload) throws IOException {
        try {
            if (payload == null) {
                writeFully(channel, scratch.position(0).limit(RECORD_HEADER_BYTES), position);
            } else if (RECORD_HEADER_BYTES + payload.remaining() <= COALESCE_BYTES) {
                // Small records: one copy and one positional write beat two system calls.
                scratch.limit(scratch.capacity()).position(RECORD_HEADER_BYTES);
                scratch.put(payload).flip();
                writeFully(channel, scratch, position);
            } else {
                writeFully(channel, scratch.position(0).limit(RECORD_HEADER_BYTES), position);
                writeFully(channel, payload, position + RECORD_HEADER_BYTES);
            }
        } finally {
            pendingWrites.decrementAndGet();
        }
    }

    /** Gives up a reservation that will never be written (the journal has failed). */
    void abandon() {
        pendingWrites.decrementAndGet();
    }

    /** Waits until every reserved record of this segment has been written (or abandoned). */
    void awaitPendingWrites() {
        while (pendingWrites.get() > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }
    }

    /** Records up to this size are copied into one buffer and written with a single positional write. */
    static final int COALESCE_BYTES = 64 << 10;

    /** A decoded record header at a position. */
    record Header(RecordType type, int flags, int memberIndex, long seq, long timeMicros, long offsetBytes,
                  int lengthBytes, int payloadBytes, int payloadCrc) {
    }

    /**
     * Reads and checks the record header at {@code position}. Returns null if the bytes there
     * are not a whole, valid header (the caller decides if that is a torn tail or corruption);
     * {@code why} receives the reason.
     */
    Header readHeader(ByteBuffer buf, long position, String[] why) throws IOException {
        buf.clear().limit(RECORD_HEADER_BYTES);
        int n = readFully(channel, buf, position);
        if (n < RECORD_HEADER_BYTES) {
            why[0] = "record header cut short (" + n + " of " + RECORD_HEADER_BYTES + " bytes)";
            return null;
        }
        return decodeHeader(buf, 0, why);
    }

    /** Checks and decodes the 48-byte record header at {@code index} of {@code buf}; null (with {@code why}) if invalid. */
    static Header decodeHeader(ByteBuffer buf, int index, String[] why) {
        if (buf.getInt(index) != RECORD_MAGIC) {
            why[0] = String.format("bad record magic %08x", buf.getInt(index));
            return null;
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.slice(index, 44));
        if (buf.getInt(index + 44) != (int) crc.getValue()) {
            why[0] = String.format("record header CRC32C expected %08x, found %08x", buf.getInt(index + 44), (int) crc.getValue());
            return null;
        }
        RecordType type = RecordType.fromCode(buf.get(index + 4));
        int payloadBytes = buf.getInt(index + 36);
        int lengthBytes = buf.getInt(index + 32);
        if (type == null || payloadBytes < 0 || lengthBytes < 0
                || (type == RecordType.WRITE && payloadBytes != lengthBytes) || (type != RecordType.WRITE && payloadBytes != 0)) {
            why[0] = "record header fields are inconsistent";
            return null;
        }
        return new Header(type, buf.get(index + 5) & 0xff, buf.getShort(index + 6) & 0xffff, buf.getLong(index + 8),
                buf.getLong(index + 16), buf.getLong(index + 24), lengthBytes, payloadBytes, buf.getInt(index + 40));
    }

    /**
     * Reads a segment front to back through a 1 MiB window, for recovery at open: one read
     * per window instead of one per record.
     */
    final class Scanner {
        private static final int WINDOW_BYTES = 1 << 20;
        private final ByteBuffer window = ByteBuffer.allocate(WINDOW_BYTES).order(ByteOrder.BIG_ENDIAN);
        private long windowStart = -1;
        private int windowLength;

        /** The valid header at {@code position}, or null with {@code why}. */
        Header header(long position, String[] why) throws IOException {
            if (!covers(position, RECORD_HEADER_BYTES)) {
                fill(position);
                if (!covers(position, RECORD_HEADER_BYTES)) {
                    why[0] = "record header cut short (" + (windowStart + windowLength - position) + " of " + RECORD_HEADER_BYTES + " bytes)";
                    return null;
                }
            }
            return decodeHeader(window, (int) (position - windowStart), why);
        }

        /** Whether the payload of the record at {@code position} matches its CRC. */
        boolean payloadIsIntact(long position, Header header) throws IOException {
            long payloadStart = position + RECORD_HEADER_BYTES;
            CRC32C crc = new CRC32C();
            if (header.payloadBytes() <= WINDOW_BYTES) {
                if (!covers(payloadStart, header.payloadBytes())) {
                    fill(payloadStart);
                    if (!covers(payloadStart, header.payloadBytes())) {
                        return false;
                    }
                }
                crc.update(window.slice((int) (payloadStart - windowStart), header.payloadBytes()));
            } else {
                ByteBuffer big = ByteBuffer.allocate(header.payloadBytes());
                if (readFully(channel, big, payloadStart) < header.payloadBytes()) {
                    return false;
                }
                crc.update(big.flip());
            }
            return (int) crc.getValue() == header.payloadCrc();
        }

        private boolean covers(long position, int length) {
            return windowStart >= 0 && position >= windowStart && position + length <= windowStart + windowLength;
        }

        private void fill(long position) throws IOException {
            window.clear();
            windowStart = position;
            windowLength = readFully(channel, window, position);
        }
    }

    /**
     * Reads a whole record (header and payload) at {@code position} into {@code dst} with one
     * read, checks both CRCs, and leaves the payload at {@code dst}'s position (the header
     * bytes are moved out of the way). {@code dst} needs room for header and payload.
     */
    Header readRecord(long position, int payloadBytes, ByteBuffer dst) throws IOException {
        int start = dst.position();
        ByteBuffer record = dst.slice(start, RECORD_HEADER_BYTES + payloadBytes).order(ByteOrder.BIG_ENDIAN);
        int n = readFully(channel, record, position);
        if (n < RECORD_HEADER_BYTES + payloadBytes) {
            throw new CorruptDataException(path, position, "record cut short: " + n + " of " + (RECORD_HEADER_BYTES + payloadBytes) + " bytes");
        }
        if (record.getInt(0) != RECORD_MAGIC) {
            throw new CorruptDataException(path, position, String.format("bad record magic %08x", record.getInt(0)));
        }
        CRC32C crc = new CRC32C();
        crc.update(record.duplicate().position(0).limit(44));
        if (record.getInt(44) != (int) crc.getValue()) {
            throw CorruptDataException.checksum(path, position + 44, record.getInt(44), (int) crc.getValue());
        }
        Header h = new Header(RecordType.fromCode(record.get(4)), record.get(5) & 0xff, record.getShort(6) & 0xffff, record.getLong(8),
                record.getLong(16), record.getLong(24), record.getInt(32), record.getInt(36), record.getInt(40));
        if (h.payloadBytes() != payloadBytes) {
            throw new CorruptDataException(path, position + 36, "record carries " + h.payloadBytes() + " payload bytes, index says " + payloadBytes);
        }
        crc.reset();
        crc.update(record.duplicate().position(RECORD_HEADER_BYTES).limit(RECORD_HEADER_BYTES + payloadBytes));
        if ((int) crc.getValue() != h.payloadCrc()) {
            throw CorruptDataException.checksum(path, position + RECORD_HEADER_BYTES, h.payloadCrc(), (int) crc.getValue());
        }
        dst.put(start, dst, start + RECORD_HEADER_BYTES, payloadBytes);
        dst.position(start + payloadBytes);
        return h;
    }

    /** Reads the payload of the record at {@code position} into {@code dst} and checks its CRC. */
    void readPayload(long position, Header header, ByteBuffer dst) throws IOException {
        int start = dst.position();
        ByteBuffer slice = dst.slice(start, header.payloadBytes());
        int n = readFully(channel, slice, position + RECORD_HEADER_BYTES);
        if (n < header.payloadBytes()) {
            throw new CorruptDataException(path, position, "payload cut short: " + n + " of " + header.payloadBytes() + " bytes");
        }
        CRC32C crc = new CRC32C();
        slice.flip();
        crc.update(slice);
        if ((int) crc.getValue() != header.payloadCrc()) {
            throw CorruptDataException.checksum(path, position + RECORD_HEADER_BYTES, header.payloadCrc(), (int) crc.getValue());
        }
        dst.position(start + header.payloadBytes());
    }

    /**
     * Counts the valid FLUSH_MARK records after {@code fromPosition} that cover {@code seq}
     * (their offset field, the seq made durable, is at least {@code seq}). A flush leader appends
     * its mark only after the previous flush's force returned, so two such marks prove that a
     * record before the first of them had been forced: a bad record there is corruption, not a
     * tear. Scans byte by byte, as a bad record's length cannot be trusted.
     */
    int flushMarksCovering(long fromPosition, long seq) throws IOException {
        long length = sizeBytes - fromPosition;
        if (length <= RECORD_HEADER_BYTES) {
            return 0;
        }
        java.nio.MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, fromPosition, length);
        map.order(ByteOrder.BIG_ENDIAN);
        int marks = 0;
        CRC32C crc = new CRC32C();
        for (int i = 1; i + RECORD_HEADER_BYTES <= length; i++) {
            if (map.getInt(i) != RECORD_MAGIC || map.get(i + 4) != (byte) RecordType.FLUSH_MARK.code()) {
                continue;
            }
            crc.reset();
            crc.update(map.slice(i, 44));
            if (map.getInt(i + 44) == (int) crc.getValue() && map.getLong(i + 24) >= seq) {
                marks++;
            }
        }
        return marks;
    }

    void truncate(long sizeBytes) throws IOException {
        channel.truncate(sizeBytes);
        channel.force(true);
        this.sizeBytes = sizeBytes;
    }

    void force() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    static int readFully(FileChannel c, ByteBuffer dst, long position) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = c.read(dst, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    static int writeFully(FileChannel c, ByteBuffer src, long position) throws IOException {
        int total = 0;
        while (src.hasRemaining()) {
            total += c.write(src, position + total);
        }
        return total;
    }

    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = StableFileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }
}
