package dev.rewind.capture;

import dev.rewind.increments.journal.Journal;
import java.time.Clock;
import java.time.Duration;

/**
 * How a set is captured. {@code checkpointInterval}: how often, at most, a flush also
 * forces the primaries so that dirty regions can be cleared.
 */
public record CaptureOptions(long journalSegmentBytes, Clock clock, Duration checkpointInterval) {
    public static final CaptureOptions DEFAULT = new CaptureOptions(Journal.DEFAULT_SEGMENT_BYTES, Clock.systemUTC(), Duration.ofSeconds(30));

    public CaptureOptions {
        if (journalSegmentBytes < (1 << 20)) {
            throw new IllegalArgumentException("journal segments must be at least 1 MiB, got " + journalSegmentBytes);
        }
    }

    public CaptureOptions withClock(Clock c) {
        return new CaptureOptions(journalSegmentBytes, c, checkpointInterval);
    }

    public CaptureOptions withJournalSegmentBytes(long bytes) {
        return new CaptureOptions(bytes, clock, checkpointInterval);
    }
}
