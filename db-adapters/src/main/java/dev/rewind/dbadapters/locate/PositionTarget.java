package dev.rewind.dbadapters.locate;

/**
 * The seq a database position resolved to: {@code exact} when the write that put the log
 * record on disk was found in the journal, otherwise the nearest sampled seq on the safe
 * side; {@code how} says which, in one line for the user.
 */
public record PositionTarget(long seq, boolean exact, String how) {
}
