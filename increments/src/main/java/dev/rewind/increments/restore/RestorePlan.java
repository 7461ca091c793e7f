package dev.rewind.increments.restore;

import java.util.List;

/**
 * What a restore to {@code targetSeq} would do, worked out without reading or writing any
 * data: the ranges of each member that changed after the target (in place, exactly these are
 * rewritten, as new journaled writes after {@code headSeq}; a clone copies each member whole and
 * puts these back). Restoring to {@link #undoSeq()} afterwards would undo a restore in place.
 */
public record RestorePlan(long targetSeq, long headSeq, List<MemberChanges> members, RestoreIntent supersedes) {

    /** One member's changed ranges, sorted and merged. */
    public record MemberChanges(String member, long sizeBytes, List<Range> ranges) {
        public long bytes() {
            return ranges.stream().mapToLong(Range::lengthBytes).sum();
        }
    }

    /** {@code lengthBytes} bytes from {@code offsetBytes}. */
    public record Range(long offsetBytes, long lengthBytes) {
    }

    public long totalBytes() {
        return members.stream().mapToLong(MemberChanges::bytes).sum();
    }

    public long rangeCount() {
        return members.stream().mapToLong(m -> m.ranges().size()).sum();
    }

    public boolean changesAnything() {
        return totalBytes() > 0;
    }

    /** The seq that would bring back the set as it is now, after a restore in place. */
    public long undoSeq() {
        return headSeq;
    }
}
