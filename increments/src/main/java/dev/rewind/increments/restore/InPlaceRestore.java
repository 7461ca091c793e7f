package dev.rewind.increments.restore;

import dev.rewind.increments.deltamap.DeltaMap;
import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.journal.JournalRecord;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.ByteRangeSet;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Restores a set in place and owns its {@link RestoreIntentFile intent}: only the blocks
 * changed after the target are rebuilt, every byte of them read and checksummed before the
 * first write (in memory up to {@code stagedRestoreBytes}, above it in a verify pass, then a
 * write pass). The intent is made durable just before the first write and removed after the
 * last, so a restore cut short is known at the next open: until it is resumed (or another
 * restore in place supersedes it), writes through the set's devices are refused.
 */
public final class InPlaceRestore {
    /** Up to this much changed data, a restore reads (and checks) everything into memory first, then writes. */
    public static final long DEFAULT_STAGED_RESTORE_BYTES = 256L << 20;

    private final String setName;
    private final Path secondaryDir;
    private final Journal journal;
    private final SetHistory history;
    private final int memberCount;
    private final Clock clock;
    /** Journals and writes one piece of the restore (flagged as a restore). */
    private final StagedRanges.Writer capture;
    private volatile long stagedRestoreBytes = DEFAULT_STAGED_RESTORE_BYTES;
    private volatile RestoreIntent unfinished;
    private volatile boolean running;

    private InPlaceRestore(String setName, Path secondaryDir, Journal journal, SetHistory history, int memberCount, Clock clock,
                           StagedRanges.Writer capture, RestoreIntent unfinished) {
        this.setName = setName;
        this.secondaryDir = secondaryDir;
        this.journal = journal;
        this.history = history;
        this.memberCount = memberCount;
        this.clock = clock;
        this.capture = capture;
        this.unfinished = unfinished;
    }

    /** Reads the intent a restore cut short may have left in {@code secondaryDir}. */
    public static InPlaceRestore open(String setName, Path secondaryDir, Journal journal, SetHistory history, int memberCount,
                               Clock clock, StagedRanges.Writer capture) throws IOException {
        RestoreIntent intent = RestoreIntentFile.read(secondaryDir).orElse(null);
        return new InPlaceRestore(setName, secondaryDir, journal, history, memberCount, clock, capture, intent);
    }

    public void stagedRestoreBytes(long bytes) {
        this.stagedRestoreBytes = bytes;
    }

    public boolean isUnfinished() {
        return unfinished != null;
    }

    /** The intent of the restore running or cut short, if any: its writes begin at its {@code firstRestoreSeq}. */
    public Optional<RestoreIntent> unfinishedIntent() {
        return Optional.ofNullable(unfinished);
    }

    /** The restore that was cut short, with how far its journaled writes got; empty while none is (or while one runs). */
    public Optional<InterruptedRestore> interrupted() {
        RestoreIntent intent = unfinished;
        if (intent == null || running) {
            return Optional.empty();
        }
        long last = intent.firstRestoreSeq() - 1;
        long count = 0;
        long bytes = 0;
        for (long seq = intent.firstRestoreSeq(); seq <= journal.lastSeq(); seq++) {
            JournalRecord r = journal.record(seq);
            if (r.isRestore()) {
                last = seq;
                count++;
                bytes += r.lengthBytes();
            }
        }
        return Optional.of(new InterruptedRestore(intent, last, count, bytes));
    }

    /** Throws the one-line refusal for a write through a device while a restore is running or unfinished. */
    public void refuseWriteIfUnfinished() {
        RestoreIntent intent = unfinished;
        if (intent == null) {
            return;
        }
        if (running) {
            throw new RewindException("set " + setName + " is being restored in place to seq " + intent.targetSeq()
                    + "; writes are refused until it has finished");
        }
        throw new RewindException("set " + setName + " has an interrupted restore in place to seq " + intent.targetSeq()
                + "; writes are refused until '" + InterruptedRestore.resumeCommand(setName) + "' finishes it");
    }

    /** What {@link #restoreTo} would rewrite, without reading or writing any data. */
    public RestorePlan plan(long targetSeq, List<String> memberNames, long[] memberSizes) throws IOException {
        long head = journal.lastSeq();
        DeltaMap changed = history.changedBetween(targetSeq, head);
        List<RestorePlan.MemberChanges> members = new ArrayList<>();
        for (int m = 0; m < memberCount; m++) {
            List<RestorePlan.Range> ranges = new ArrayList<>();
            for (ByteRangeSet.Range r : changed.changed(m)) {
                ranges.add(new RestorePlan.Range(r.startBytes(), r.lengthBytes()));
            }
            members.add(new RestorePlan.MemberChanges(memberNames.get(m), memberSizes[m], List.copyOf(ranges)));
        }
        RestoreIntent intent = unfinished;
        RestoreIntent supersedes = intent != null && intent.targetSeq() != targetSeq ? intent : null;
        return new RestorePlan(targetSeq, head, List.copyOf(members), supersedes);
    }

    /** Finishes the restore that was cut short, so that the set equals its target exactly. */
    public RestoreResult resume(ProgressListener progress) throws IOException {
        RestoreIntent intent = unfinished;
        if (intent == null) {
            throw new RewindException("set " + setName + " has no interrupted restore to resume; 'rewind status " + setName
                    + "' shows its state");
        }
        return restoreTo(intent.targetSeq(), progress);
    }

    /**
     * Rewinds every member to {@code targetSeq}. An unfinished restore to the same target is
     * continued (its intent and first seq are kept); one to another target is superseded.
     * One restore at a time.
     */
    public synchronized RestoreResult restoreTo(long targetSeq, ProgressListener progress) throws IOException {
        RestoreIntent previous = unfinished;
        RestoreIntent continued = previous != null && previous.targetSeq() == targetSeq ? previous : null;
        long head = journal.lastSeq();
        long firstSeq = continued != null ? continued.firstRestoreSeq() : head + 1;
        if (targetSeq == head) {
            if (previous != null) {
                finish(); // the DBA takes the set as it is: nothing to write
            }
            return new RestoreResult(targetSeq, firstSeq, head, 0, 0);
        }
        DeltaMap changed = history.changedBetween(targetSeq, head);
        long plannedBytes = changed.totalBytes();
        long[] totals = {0, 0};
        StagedRanges.Writer apply = (member, offset, length, data) -> {
            capture.accept(member, offset, length, data);
            totals[0] += length;
            totals[1]++;
            progress.advanced(length);
        };
        RestoreIntent intent = continued != null ? continued
                : new RestoreIntent(targetSeq, head, head + 1, plannedBytes, Times.micros(clock.instant()));
        try {
            if (plannedBytes <= stagedRestoreBytes) {
                StagedRanges staged = new StagedRanges();
                history.reconstruct(targetSeq, changed, staged);
                begin(intent, continued != null);
                staged.applyInOrder(apply);
            } else {
                history.reconstruct(targetSeq, changed.copy(), (m, o, l, d) -> { });
                begin(intent, continued != null);
                history.reconstruct(targetSeq, changed, apply::accept);
            }
            journal.flush();
            finish();
        } finally {
            running = false;
        }
        return new RestoreResult(targetSeq, firstSeq, journal.lastSeq(), totals[0], totals[1]);
    }

    /**
     * Everything needed has been read and checked: makes the head durable (the intent names
     * it), then the intent, before the first write.
     */
    private void begin(RestoreIntent intent, boolean alreadyRecorded) throws IOException {
        journal.flush();
        running = true;
        if (!alreadyRecorded) {
            RestoreIntentFile.write(secondaryDir, intent);
        }
        unfinished = intent;
    }

    private void finish() throws IOException {
        RestoreIntentFile.remove(secondaryDir);
        unfinished = null;
    }

}
