package dev.rewind.increments.transaction;

import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.volumeset.Times;
import java.time.Instant;

/**
 * The writes between two cuts, seqs {@code firstSeq..lastSeq}, and the two increments stored
 * for them: the forward increment (the final content of every block they changed) and the
 * backward increment (what those blocks held when the transaction began). The boundary of a
 * transaction is its {@code lastSeq}; the one before its first is {@code firstSeq - 1}.
 *
 * @param startsInsideRestore the boundary before it ({@code firstSeq - 1}) lies inside the
 *                            writes of a restore in place (a cut made there by a version that
 *                            did not hold cuts during restores): no one wrote the state there,
 *                            so it is never offered as a point
 */
public record Transaction(long id, long firstSeq, long lastSeq, long startMicros, long endMicros, long writes, long bytes,
                          CutReason reason, IncrementCodec codec, int extentCount,
                          long forwardStoredBytes, long backwardStoredBytes, long changedBytes, boolean startsInsideRestore) {

    public Instant start() {
        return Times.ofMicros(startMicros);
    }

    public Instant end() {
        return Times.ofMicros(endMicros);
    }

    /** Raw bytes of changed blocks over bytes stored for both increments: how much compression saved. */
    public double compressionRatio() {
        long stored = forwardStoredBytes + backwardStoredBytes;
        return stored == 0 ? 1.0 : (2.0 * changedBytes) / stored;
    }

    public boolean contains(long seq) {
        return seq >= firstSeq && seq <= lastSeq;
    }
}
