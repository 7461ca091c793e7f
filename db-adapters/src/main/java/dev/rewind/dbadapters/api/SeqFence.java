package dev.rewind.dbadapters.api;

import java.io.IOException;

/**
 * The set's side of a bookmark or a sample, called by an adapter at the instant its
 * database is in the state to record: returns the set's newest seq (for a consistent
 * bookmark, after making every write so far durable).
 */
@FunctionalInterface
public interface SeqFence {
    long seqNow() throws IOException;
}
