package dev.rewind.increments.journal;

import dev.rewind.volumeset.Times;
import java.time.Instant;

/**
 * One numbered event of a set, as the journal index knows it (the payload stays on disk).
 * {@code flags} has {@link #FLAG_RESTORE} for writes made by a restore.
 */
public record JournalRecord(long seq, RecordType type, int flags, int memberIndex, long offsetBytes, int lengthBytes, long timeMicros) {
    public static final int FLAG_RESTORE = 1;

    public long endBytes() {
        return offsetBytes + lengthBytes;
    }

    public boolean isRestore() {
        return (flags & FLAG_RESTORE) != 0;
    }

    public Instant time() {
        return Times.ofMicros(timeMicros);
    }
}
