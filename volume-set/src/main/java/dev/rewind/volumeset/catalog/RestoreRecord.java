package dev.rewind.volumeset.catalog;

/** A finished restore in place: its own writes are seqs {@code firstSeq..lastSeq}. */
public record RestoreRecord(String setName, long targetSeq, long firstSeq, long lastSeq, long bytesWritten, long finishedAtMicros) {
}
