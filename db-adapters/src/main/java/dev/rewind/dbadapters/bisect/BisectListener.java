package dev.rewind.dbadapters.bisect;

/** Told of each step of a bisect as it finishes (the CLI prints it). */
@FunctionalInterface
public interface BisectListener {
    BisectListener NONE = step -> { };

    void stepDone(BisectStep step);
}
