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
 * <p>Retention merges adjacent transactions into one ({@code merged} of them): it keeps the id
 * of the newest, so ids grow but may skip; seqs always follow on.
 *
 * @param startsInsideRestore the boundary before it ({@code firstSeq - 1}) lies inside the
 *                            writes of a restore in place (a cut made there by a version that
 *                            did not hold cuts during restores): no one wrote the state there,
 *                            so it is never offered as a point
 * @param merged              how many cut transactions this one now stands for (1 if never merged)
 * @param boundaryBeforeMicros when the boundary before it was reached (the end of the transaction
 *                            before it, which retention may have dropped); 0 if not recorded
 */
public record Transaction(long id, long firstSeq, long lastSeq, long startMicros, long endMicros, long writes, long bytes,
                          CutReason reason, IncrementCodec codec, int extentCount,
                          long forwardStoredBytes, long backwardStoredBytes, long changedBytes, boolean startsInsideRestore,
                          int merged, long boundaryBeforeMicros) {

    public Transaction {
        if (merged < 1) {
            throw new IllegalArgumentException("a transaction stands for at least one cut, not " + merged);
        }
    }

    public Instant start() {
        return Times.ofMicros(startMicros);
    }

    /** When the point before it ({@code firstSeq - 1}) was reached: the end of the transaction before, or its own start. */
    public long boundaryBeforeTimeMicros() {
        return boundaryBeforeMicros > 0 ? boundaryBeforeMicros : startMicros;
    }

    public Instant end() {
        return Times.ofMicros(endMicros);
    }

    /** Raw bytes of changed blocks over bytes stored for both increments: how much compression saved. */
    public double compressionRatio() {
        long stored = forwardStoredBytes + backwardStoredBytes;
        return stored == 0 ? 1.0 : (2.0 * changedBytes) / stored;
    }

    /** Whether retention merged several cut transactions into this one. */
    public boolean isMerged() {
        return merged > 1;
    }

    public boolean contains(long seq) {
        return seq >= firstSeq && seq <= lastSeq;
    }
}
