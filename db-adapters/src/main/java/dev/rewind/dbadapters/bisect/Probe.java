package dev.rewind.dbadapters.bisect;

import java.io.IOException;

/**
 * Runs the check on the set as it was at one seq. A check that fails is a {@link
 * Verdict#bad bad verdict}; an exception means the probe itself could not be done (the
 * database did not start) and ends the bisect.
 */
@FunctionalInterface
public interface Probe {
    Verdict at(long seq) throws IOException;
}
