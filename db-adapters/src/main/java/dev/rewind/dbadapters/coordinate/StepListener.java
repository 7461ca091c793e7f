package dev.rewind.dbadapters.coordinate;

/** Told of each step of a coordinated restore as it finishes (the CLI prints it). */
@FunctionalInterface
public interface StepListener {
    StepListener NONE = step -> { };

    void stepDone(Step step);
}
