package dev.rewind.capture;

import dev.rewind.increments.deltamap.SpanMaps;
import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.transaction.CutRules;
import java.time.Clock;
import java.time.Duration;

/**
 * How a set is captured. {@code checkpointInterval}: how often, at most, the set forces its
 * primaries so that dirty regions can be cleared (zero: only when asked, as the daemon's
 * scheduler does). {@code cutRules}: when transactions are cut; {@code codec}: how their
 * increments are compressed; {@code keepEveryWrite}: how long every single write stays
 * restorable (null: forever); older journal segments are deleted once transactions cover them.
 * {@code spanFanout}: transactions per merged delta map ({@link SpanMaps}).
 */
public record CaptureOptions(long journalSegmentBytes, Clock clock, Duration checkpointInterval, CutRules cutRules,
                             IncrementCodec codec, Duration keepEveryWrite, int spanFanout) {
    public static final CaptureOptions DEFAULT = new CaptureOptions(Journal.DEFAULT_SEGMENT_BYTES, Clock.systemUTC(), Duration.ofSeconds(30));

    public CaptureOptions {
        if (journalSegmentBytes < (1 << 20)) {
            throw new IllegalArgumentException("journal segments must be at least 1 MiB, got " + journalSegmentBytes);
        }
        if (cutRules == null || codec == null) {
            throw new IllegalArgumentException("cut rules and codec are required");
        }
        if (spanFanout < 2) {
            throw new IllegalArgumentException("span fanout must be at least 2, got " + spanFanout);
        }
    }

    public CaptureOptions(long journalSegmentBytes, Clock clock, Duration checkpointInterval) {
        this(journalSegmentBytes, clock, checkpointInterval, CutRules.NONE, IncrementCodec.ZSTD, null, SpanMaps.DEFAULT_FANOUT);
    }

    public CaptureOptions withClock(Clock c) {
        return new CaptureOptions(journalSegmentBytes, c, checkpointInterval, cutRules, codec, keepEveryWrite, spanFanout);
    }

    public CaptureOptions withJournalSegmentBytes(long bytes) {
        return new CaptureOptions(bytes, clock, checkpointInterval, cutRules, codec, keepEveryWrite, spanFanout);
    }

    public CaptureOptions withCheckpointInterval(Duration d) {
        return new CaptureOptions(journalSegmentBytes, clock, d, cutRules, codec, keepEveryWrite, spanFanout);
    }

    public CaptureOptions withCutRules(CutRules rules) {
        return new CaptureOptions(journalSegmentBytes, clock, checkpointInterval, rules, codec, keepEveryWrite, spanFanout);
    }

    public CaptureOptions withCodec(IncrementCodec c) {
        return new CaptureOptions(journalSegmentBytes, clock, checkpointInterval, cutRules, c, keepEveryWrite, spanFanout);
    }

    /** Transactions per merged delta map: small in tests, so that reads of the past cross many of them. */
    public CaptureOptions withSpanFanout(int fanout) {
        return new CaptureOptions(journalSegmentBytes, clock, checkpointInterval, cutRules, codec, keepEveryWrite, fanout);
    }

    public CaptureOptions withKeepEveryWrite(Duration d) {
        return new CaptureOptions(journalSegmentBytes, clock, checkpointInterval, cutRules, codec, d, spanFanout);
    }
}
