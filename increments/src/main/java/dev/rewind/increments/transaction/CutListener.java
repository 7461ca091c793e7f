package dev.rewind.increments.transaction;

import java.io.IOException;

/** Told of every transaction once it is committed and the replica has moved to its end. */
@FunctionalInterface
public interface CutListener {
    void cut(Transaction t) throws IOException;
}
