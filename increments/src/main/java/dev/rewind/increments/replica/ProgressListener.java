package dev.rewind.increments.replica;

/** Told how many bytes a long operation has done, for a progress display. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = bytes -> { };

    void advanced(long bytes);
}
