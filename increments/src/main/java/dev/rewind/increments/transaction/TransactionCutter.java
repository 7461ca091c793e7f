package dev.rewind.increments.transaction;

import dev.rewind.increments.deltamap.WriteMap;
import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.increments.increment.IncrementHeader;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.RecordType;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts transactions: from the journal, the forward increment (the content at the cut of every
 * byte the transaction changed, newest write wins) and, from the replica before it moves, the
 * backward increment (what those bytes held when the transaction began); then the commit
 * (one forced record in the {@link TransactionLog}); then the replica moves to the cut.
 *
 * <p>Crash safety: increment files appear under their final names only once complete
 * (written, forced, renamed). Before the commit they are orphans, removed at the next open (the
 * cut is rolled back); after it, a replica that did not finish moving is moved again from the
 * forward increment (the cut is redone). Writes are never held up: the cut reads records up to
 * its seq while capture appends after it.
 */
public final class TransactionCutter {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionCutter.class);
    private static final int PIECE_BYTES = 1 << 20;

    private final UUID setUuid;
    private final Journal journal;
    private final TransactionLog log;
    private final IncrementStore store;
    private final List<ReplicaImage> replicas;
    private final Lock replicaWriteLock;

    /**
     * @param replicaWriteLock held while the replica moves, so that no reader of the past sees it half moved
     */
    public TransactionCutter(UUID setUuid, Journal journal, TransactionLog log, IncrementStore store, List<ReplicaImage> replicas,
                             Lock replicaWriteLock) {
        this.setUuid = setUuid;
        this.journal = journal;
        this.log = log;
        this.store = store;
        this.replicas = replicas;
        this.replicaWriteLock = replicaWriteLock;
    }

    /** The newest committed boundary: the open transaction holds the writes after it. */
    public long committedSeq() {
        return log.lastSeq();
    }

    /**
     * Finishes what a crash cut short: removes increments no transaction committed, and moves
     * every replica still behind the newest committed transaction. Run at open, before any read.
     */
    public void recover() throws IOException {
        store.removeOrphans(log.nextId() - 1);
        for (int m = 0; m < replicas.size(); m++) {
            ReplicaImage r = replicas.get(m);
            if (r.seq() == log.lastSeq()) {
                continue;
            }
            if (r.seq() > log.lastSeq() || !log.isBoundary(r.seq())) {
                throw new CorruptDataException(store.dir(), 0, "the replica of member " + m + " is at seq " + r.seq()
                        + ", which is no transaction boundary of this set (the newest is " + log.lastSeq() + ")");
            }
            for (Transaction t : log.all()) {
                if (t.lastSeq() > r.seq()) {
                    LOG.info("replica of member {}: moving again to seq {} (transaction {}), a move cut short", m, t.lastSeq(), t.id());
                    applyForward(m, t);
                }
            }
        }
    }

    /**
     * Cuts the open transaction at {@code upToSeq} (or at the newest written seq, if older), or,
     * for the count and byte rules, where the rule was met. Returns empty when no write is
     * after the last cut.
     */
    public synchronized Optional<Transaction> cut(long upToSeq, CutReason reason, CutRules rules, IncrementCodec codec)
            throws IOException {
        long from = log.lastSeq();
        long to = Math.min(upToSeq, journal.lastSeq());
        if (reason == CutReason.WRITES && rules.writes() > 0) {
            to = Math.min(to, from + rules.writes());
        }
        boolean byBytes = reason == CutReason.BYTES && rules.bytes() > 0;
        long bytes = 0;
        for (long s = from + 1; s <= to; s++) {
            bytes += journal.lengthOf(s);
            if (byBytes && bytes >= rules.bytes()) {
                to = s; // the write that reached the limit ends the transaction
                break;
            }
        }
        if (to <= from) {
            return Optional.empty();
        }
        journal.flushTo(to); // the increments are made of durable writes only
        long id = log.nextId();
        int members = replicas.size();
        WriteMap changed = WriteMap.of(journal, from, to, members);
        IncrementFile.IncrementSummary forward;
        IncrementFile.IncrementSummary backward;
        try (IncrementFile.Writer w = IncrementFile.create(store.path(id, IncrementDirection.FORWARD),
                new IncrementHeader(setUuid, id, IncrementDirection.FORWARD, from + 1, to, members, codec))) {
            writeForward(changed, w);
            forward = w.finish();
        }
        try (IncrementFile.Writer w = IncrementFile.create(store.path(id, IncrementDirection.BACKWARD),
                new IncrementHeader(setUuid, id, IncrementDirection.BACKWARD, from + 1, to, members, codec))) {
            writeBackward(changed, w);
            backward = w.finish();
        }
        long changedBytes = changed.totalBytes();
        Transaction t = new Transaction(id, from + 1, to, journal.timeMicrosOf(from + 1), journal.timeMicrosOf(to), to - from, bytes,
                reason, codec, forward.extentCount(), forward.storedBytes(), backward.storedBytes(), changedBytes,
                startsInsideRestore(from), 1,
                log.byId(log.nextId() - 1).map(Transaction::endMicros).orElse(0L));
        log.append(t); // the commit point
        // All members move under one hold of the write lock: a reader of the past must never see
        // one member's replica at the new cut and another's at the old one.
        replicaWriteLock.lock();
        try {
            for (int m = 0; m < members; m++) {
                applyForward(m, t); // every chunk it touches was just read and checked for the backward increment
            }
        } finally {
            replicaWriteLock.unlock();
        }
        return Optional.of(t);
    }

    /**
     * Whether the boundary {@code from}, before the transaction being cut, split a restore in
     * place: the writes on both sides of it are a restore's, and the transaction that ended there
     * was not cut by a restore of its own end (two restores one after the other).
     */
    private boolean startsInsideRestore(long from) {
        if (from < journal.firstSeq() || from + 1 > journal.lastSeq()) {
            return false;
        }
        boolean endedByRestore = log.byId(log.nextId() - 1)
                .map(t -> t.lastSeq() == from && t.reason() == CutReason.RESTORE).orElse(false);
        return !endedByRestore && journal.record(from).isRestore() && journal.record(from + 1).isRestore();
    }

    private void writeForward(WriteMap changed, IncrementFile.Writer w) throws IOException {
        ByteBuffer payload = ByteBuffer.allocate(0);
        long payloadSeq = -1;
        for (int m = 0; m < changed.memberCount(); m++) {
            for (WriteMap.Extent e : changed.extents(m).values()) {
                if (journal.typeOf(e.source()) != RecordType.WRITE) {
                    w.addZeros(m, e.startBytes(), e.lengthBytes());
                    continue;
                }
                if (payloadSeq != e.source()) {
                    int length = journal.lengthOf(e.source());
                    if (payload.capacity() < length + Journal.READ_OVERHEAD_BYTES) {
                        payload = ByteBuffer.allocate(length + Journal.READ_OVERHEAD_BYTES);
                    }
                    payload.clear();
                    journal.readPayload(e.source(), payload);
                    payloadSeq = e.source();
                }
                int from = (int) (e.startBytes() - journal.offsetOf(e.source()));
                ByteBuffer slice = payload.duplicate();
                slice.limit(from + (int) e.lengthBytes()).position(from);
                w.add(m, e.startBytes(), slice);
            }
        }
    }

    private void writeBackward(WriteMap changed, IncrementFile.Writer w) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(PIECE_BYTES);
        for (int m = 0; m < changed.memberCount(); m++) {
            ReplicaImage replica = replicas.get(m);
            for (WriteMap.Extent e : changed.extents(m).values()) {
                for (long pos = e.startBytes(); pos < e.endBytes(); ) {
                    int n = (int) Math.min(PIECE_BYTES, e.endBytes() - pos);
                    buf.clear().limit(n);
                    replica.read(pos, buf);
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
    }

    /** Moves member {@code m}'s replica to the end of {@code t} from its forward increment, under the write lock (taken again if the caller holds it). */
    private void applyForward(int m, Transaction t) throws IOException {
        IncrementFile forward = store.get(t.id(), IncrementDirection.FORWARD);
        replicaWriteLock.lock();
        try {
            replicas.get(m).apply(t.lastSeq(), sink -> forward.forEach((member, offset, length, data) -> {
                if (member == m) {
                    sink.accept(offset, length, data);
                }
            }));
            store.closeEvicted();
        } finally {
            replicaWriteLock.unlock();
        }
    }
}
