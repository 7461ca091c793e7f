package dev.rewind.increments.restore;

/**
 * What a restore did. In place, the restore's own writes are seqs {@code firstSeq..lastSeq}
 * (none when nothing had changed: then {@code lastSeq < firstSeq}).
 */
public record RestoreResult(long targetSeq, long firstSeq, long lastSeq, long bytesWritten, long rangesWritten) {
    public boolean changedAnything() {
        return lastSeq >= firstSeq;
    }
}
