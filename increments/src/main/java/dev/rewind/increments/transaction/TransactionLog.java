package dev.rewind.increments.transaction;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.io.DurableFiles;
import dev.rewind.volumeset.io.StableFileChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committed transactions of a set, on its secondary: appending a record and forcing it
 * is the commit point of a cut. Increment files of a transaction not in this log are
 * orphans of a cut that never committed; a committed transaction whose forward increment is
 * not yet in the replica is redone at open. The catalog keeps a copy for queries; this log is
 * what recovery trusts, so a secondary describes its own history.
 *
 * <pre>
 * transactions.log
 *  0   8  magic "RWNDTXLG"
 *  8   4  version (1)
 * 12  16  set UUID
 * 28   4  CRC32C of [0, 28)
 * 32      records of 128 bytes, one per transaction, in id order:
 *   0  8  id            8  8 first seq      16  8 last seq
 *  24  8  start micros  32  8 end micros     40  8 writes
 *  48  8  bytes written 56  1 cut reason     57  1 codec      58  1 flags      59  1 reserved
 *  60  4  extent count  64  8 forward stored 72  8 backward stored
 *  80  8  changed bytes 88  4 merged - 1     92  8 boundary-before micros (0: not recorded)
 * 100 24  reserved (0) 124  4 CRC32C of [0, 124)
 * </pre>
 * Ids increase and seqs follow on without a gap; ids may skip where retention merged
 * transactions (the merged one keeps its newest id) or dropped the oldest. Retention rewrites
 * the whole log ({@link #replace}): a new file, forced, renamed over the old one.
 * Flags: {@value #FLAG_STARTS_INSIDE_RESTORE} = the boundary before this transaction lies
 * inside a restore in place ({@link Transaction#startsInsideRestore}).
 * A record cut short at the end (a crash during an append, before its force) is dropped at
 * open; a bad record anywhere else is corruption and refused.
 */
public final class TransactionLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionLog.class);
    static final String FILE = "transactions.log";
    private static final byte[] MAGIC = {'R', 'W', 'N', 'D', 'T', 'X', 'L', 'G'};
    private static final int VERSION = 1;
    static final int HEADER_BYTES = 32;
    static final int RECORD_BYTES = 128;
    static final int FLAG_STARTS_INSIDE_RESTORE = 1;

    private final Path file;
    private final UUID setUuid;
    private FileChannel channel;
    private final long initialSeq;
    private volatile Transaction[] transactions;

    private TransactionLog(Path file, UUID setUuid, FileChannel channel, long initialSeq, List<Transaction> transactions) {
        this.file = file;
        this.setUuid = setUuid;
        this.channel = channel;
        this.initialSeq = initialSeq;
        this.transactions = transactions.toArray(new Transaction[0]);
    }

    /**
     * Opens (creating, durably, if missing) the log in {@code dir}.
     *
     * @param initialSeq the seq the set's history starts at when no transaction is recorded
     */
    public static TransactionLog open(Path dir, UUID setUuid, long initialSeq) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            DurableFiles.createDirectories(dir);
            DurableFiles.writeAtomically(file, header(setUuid).array(), true);
        }
        FileChannel c = StableFileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            return new TransactionLog(file, setUuid, c, initialSeq, load(file, c, setUuid));
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The last seq of the newest committed transaction in {@code dir}'s log, read without
     * changing anything (0 if it has none or no log yet): the journal, opened before the log,
     * holds every write up to it durably, so a bad record there is corruption, never a torn tail.
     */
    public static long committedSeq(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            return 0;
        }
        try (FileChannel c = StableFileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer r = ByteBuffer.allocate(RECORD_BYTES).order(ByteOrder.BIG_ENDIAN);
            for (long pos = HEADER_BYTES + (c.size() - HEADER_BYTES) / RECORD_BYTES * RECORD_BYTES - RECORD_BYTES; pos >= HEADER_BYTES;
                 pos -= RECORD_BYTES) {
                r.clear();
                readFully(c, r, pos);
                if (r.position() == RECORD_BYTES && r.getInt(124) == crc(r.array(), 0, 124)) {
                    return r.getLong(16);
                }
                // the newest record cut short by a crash: it never committed; one before it did
            }
            return 0;
        }
    }

    private static List<Transaction> load(Path file, FileChannel c, UUID setUuid) throws IOException {
        long size = c.size();
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        readFully(c, h, 0);
        if (h.position() < HEADER_BYTES || !Arrays.equals(Arrays.copyOf(h.array(), 8), MAGIC)) {
            throw new CorruptDataException(file, 0, "not a transaction log (bad magic or cut short)");
        }
        if (h.getInt(28) != crc(h.array(), 0, 28)) {
            throw CorruptDataException.checksum(file, 28, h.getInt(28), crc(h.array(), 0, 28));
        }
        UUID uuid = new UUID(h.getLong(12), h.getLong(20));
        if (!uuid.equals(setUuid)) {
            throw new CorruptDataException(file, 12, "transaction log belongs to set " + uuid + ", not " + setUuid);
        }
        List<Transaction> list = new ArrayList<>();
        ByteBuffer r = ByteBuffer.allocate(RECORD_BYTES).order(ByteOrder.BIG_ENDIAN);
        long pos = HEADER_BYTES;
        while (pos < size) {
            r.clear();
            readFully(c, r, pos);
            boolean last = pos + RECORD_BYTES >= size;
            if (r.position() < RECORD_BYTES || r.getInt(124) != crc(r.array(), 0, 124)) {
                if (!last) {
                    throw new CorruptDataException(file, pos, "transaction record does not match its CRC32C");
                }
                LOG.warn("transaction log {}: dropping a record cut short at offset {} (a cut that never committed)", file, pos);
                c.truncate(pos);
                c.force(true);
                break;
            }
            Transaction t = decode(r);
            Transaction previous = list.isEmpty() ? null : list.get(list.size() - 1);
            if (previous != null && (t.id() <= previous.id() || t.firstSeq() != previous.lastSeq() + 1)) {
                throw new CorruptDataException(file, pos, "transaction " + t.id() + " (seqs " + t.firstSeq() + ".." + t.lastSeq()
                        + ") does not follow transaction " + previous.id() + " (ending at seq " + previous.lastSeq() + ")");
            }
            list.add(t);
            pos += RECORD_BYTES;
        }
        return list;
    }

    private static ByteBuffer header(UUID setUuid) {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.BIG_ENDIAN);
        h.put(MAGIC).putInt(VERSION).putLong(setUuid.getMostSignificantBits()).putLong(setUuid.getLeastSignificantBits());
        h.putInt(crc(h.array(), 0, 28));
        return h;
    }

    private static void readFully(FileChannel c, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            if (c.read(b, pos + b.position()) < 0) {
                return;
            }
        }
    }

    private static int crc(byte[] a, int from, int len) {
        CRC32C crc = new CRC32C();
        crc.update(a, from, len);
        return (int) crc.getValue();
    }

    private static Transaction decode(ByteBuffer r) {
        return new Transaction(r.getLong(0), r.getLong(8), r.getLong(16), r.getLong(24), r.getLong(32), r.getLong(40), r.getLong(48),
                CutReason.values()[r.get(56)], IncrementCodec.values()[r.get(57)], r.getInt(60), r.getLong(64), r.getLong(72),
                r.getLong(80), (r.get(58) & FLAG_STARTS_INSIDE_RESTORE) != 0, r.getInt(88) + 1, r.getLong(92));
    }

    private static ByteBuffer encode(Transaction t) {
        ByteBuffer r = ByteBuffer.allocate(RECORD_BYTES).order(ByteOrder.BIG_ENDIAN);
        r.putLong(0, t.id()).putLong(8, t.firstSeq()).putLong(16, t.lastSeq()).putLong(24, t.startMicros()).putLong(32, t.endMicros())
                .putLong(40, t.writes()).putLong(48, t.bytes());
        r.put(56, (byte) t.reason().ordinal()).put(57, (byte) t.codec().ordinal())
                .put(58, (byte) (t.startsInsideRestore() ? FLAG_STARTS_INSIDE_RESTORE : 0));
        r.putInt(60, t.extentCount()).putLong(64, t.forwardStoredBytes()).putLong(72, t.backwardStoredBytes()).putLong(80, t.changedBytes())
                .putInt(88, t.merged() - 1).putLong(92, t.boundaryBeforeMicros());
        r.putInt(124, crc(r.array(), 0, 124));
        return r;
    }

    /** Commits a transaction: appended and forced before this returns. It must follow the last one. */
    public synchronized void append(Transaction t) throws IOException {
        Transaction[] current = transactions;
        long expectedId = current.length == 0 ? 1 : current[current.length - 1].id() + 1;
        if (t.id() != expectedId || t.firstSeq() != lastSeq() + 1 || t.lastSeq() < t.firstSeq()) {
            throw new IllegalArgumentException("transaction " + t.id() + " (" + t.firstSeq() + ".." + t.lastSeq() + ") does not follow "
                    + (expectedId - 1) + " ending at seq " + lastSeq());
        }
        ByteBuffer r = encode(t);
        long pos = HEADER_BYTES + (long) current.length * RECORD_BYTES;
        while (r.hasRemaining()) {
            channel.write(r, pos + r.position());
        }
        channel.force(false);
        Transaction[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = t;
        transactions = grown;
    }

    /**
     * Retention's commit point: the transactions up to id {@code lastReplacedId} become
     * {@code replacement} (merged and with the oldest dropped; the newer ones stay as they are).
     * The whole log is written to a new file, forced, and renamed over this one, so that a crash
     * leaves either the old history or the new one.
     */
    public synchronized void replace(List<Transaction> replacement, long lastReplacedId) throws IOException {
        List<Transaction> next = new ArrayList<>(replacement);
        for (Transaction t : transactions) {
            if (t.id() > lastReplacedId) {
                next.add(t);
            }
        }
        for (int i = 1; i < next.size(); i++) {
            Transaction a = next.get(i - 1);
            Transaction b = next.get(i);
            if (b.id() <= a.id() || b.firstSeq() != a.lastSeq() + 1) {
                throw new IllegalArgumentException("transaction " + b.id() + " (" + b.firstSeq() + ".." + b.lastSeq()
                        + ") does not follow transaction " + a.id() + " ending at seq " + a.lastSeq());
            }
        }
        if (next.isEmpty() || next.get(next.size() - 1).lastSeq() != lastSeq()) {
            throw new IllegalArgumentException("retention must keep the newest transaction (ending at seq " + lastSeq() + ")");
        }
        ByteBuffer all = ByteBuffer.allocate(HEADER_BYTES + next.size() * RECORD_BYTES);
        all.put(header(setUuid).array());
        for (Transaction t : next) {
            all.put(encode(t).array());
        }
        channel.close();
        try {
            DurableFiles.writeAtomically(file, all.array(), false);
        } finally {
            channel = StableFileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        transactions = next.toArray(new Transaction[0]);
    }

    public Path file() {
        return file;
    }

    public UUID setUuid() {
        return setUuid;
    }

    /** The next transaction's id. */
    public long nextId() {
        Transaction[] current = transactions;
        return current.length == 0 ? 1 : current[current.length - 1].id() + 1;
    }

    /** The newest boundary: the last seq of the newest transaction, or the history's initial seq. */
    public long lastSeq() {
        Transaction[] current = transactions;
        return current.length == 0 ? initialSeq : current[current.length - 1].lastSeq();
    }

    /** The oldest boundary on hand. */
    public long firstBoundary() {
        Transaction[] current = transactions;
        return current.length == 0 ? initialSeq : current[0].firstSeq() - 1;
    }

    public List<Transaction> all() {
        return List.of(transactions);
    }

    /** The transaction at {@code index} of {@link #all}, without copying the list. */
    public Transaction at(int index) {
        return transactions[index];
    }

    public int size() {
        return transactions.length;
    }

    public Optional<Transaction> byId(long id) {
        int i = indexOfId(id);
        return i < 0 ? Optional.empty() : Optional.of(transactions[i]);
    }

    /** The index (in {@link #all}) of the transaction with {@code id}, or -1 (merged into an older one, dropped, or not cut). */
    public int indexOfId(long id) {
        Transaction[] current = transactions;
        int lo = 0;
        int hi = current.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long midId = current[mid].id();
            if (midId < id) {
                lo = mid + 1;
            } else if (midId > id) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** Whether a transaction with exactly this id is in the log. */
    public boolean hasId(long id) {
        return indexOfId(id) >= 0;
    }

    /** The index (in {@link #all}) of the transaction holding {@code seq}, or -1 if none does. */
    public int indexHolding(long seq) {
        Transaction[] current = transactions;
        int lo = 0;
        int hi = current.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Transaction t = current[mid];
            if (seq < t.firstSeq()) {
                hi = mid - 1;
            } else if (seq > t.lastSeq()) {
                lo = mid + 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** The newest boundary at or before {@code seq} (the history's first boundary if seq is older). */
    public long boundaryAtOrBefore(long seq) {
        int i = indexHolding(seq);
        if (i < 0) {
            return seq >= lastSeq() ? lastSeq() : firstBoundary();
        }
        Transaction t = transactions[i];
        return seq == t.lastSeq() ? seq : t.firstSeq() - 1;
    }

    /** The oldest boundary at or after {@code seq}, or empty if seq is after the newest. */
    public Optional<Long> boundaryAtOrAfter(long seq) {
        if (seq <= firstBoundary()) {
            return Optional.of(firstBoundary());
        }
        int i = indexHolding(seq);
        return i < 0 ? Optional.empty() : Optional.of(transactions[i].lastSeq());
    }

    public boolean isBoundary(long seq) {
        return boundaryAtOrBefore(seq) == seq;
    }

    /** The newest transaction that ended at or before {@code micros}, or empty. */
    public Optional<Transaction> lastEndedAtOrBefore(long micros) {
        Transaction[] current = transactions;
        int lo = 0;
        int hi = current.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (current[mid].endMicros() <= micros) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found < 0 ? Optional.empty() : Optional.of(current[found]);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
