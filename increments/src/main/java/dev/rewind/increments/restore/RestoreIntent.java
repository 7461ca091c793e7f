package dev.rewind.increments.restore;

import dev.rewind.volumeset.Times;
import java.time.Instant;

/**
 * A restore in place that has started writing: it rewinds the set to {@code targetSeq};
 * when it began, the newest seq was {@code headSeqAtStart}, and its own writes are
 * journaled from {@code firstRestoreSeq} on; it planned to rewrite {@code plannedBytes}.
 * While one is recorded on the secondary and not finished, the set holds a mix of the
 * target and what came after it (see {@link RestoreIntentFile}).
 */
public record RestoreIntent(long targetSeq, long headSeqAtStart, long firstRestoreSeq, long plannedBytes, long startedAtMicros) {
    public RestoreIntent {
        if (targetSeq < 0 || headSeqAtStart < targetSeq || firstRestoreSeq != headSeqAtStart + 1 || plannedBytes < 0) {
            throw new IllegalArgumentException("inconsistent restore intent: target " + targetSeq + ", head " + headSeqAtStart
                    + ", first restore seq " + firstRestoreSeq + ", planned bytes " + plannedBytes);
        }
    }

    public Instant startedAt() {
        return Times.ofMicros(startedAtMicros);
    }

    /** Restoring to this seq gives back the set as it was before the restore started. */
    public long undoSeq() {
        return firstRestoreSeq - 1;
    }
}
