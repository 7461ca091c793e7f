package dev.rewind.scheduler;

import java.util.Optional;
import org.quartz.JobKey;
import org.quartz.TriggerKey;

/**
 * The kinds of scheduled job and their keys in the job store: a job and its one trigger are
 * both named {@code <kind>/<set>} in the group {@link #GROUP}, so the key alone says what to
 * run for which set (no job data to serialise).
 */
enum JobKind {
    CUT("cut"),
    CHECKPOINT("checkpoint"),
    CONSISTENT_BOOKMARK("consistent-bookmark"),
    RETAIN("retain");

    /** The job store group of every Rewind job and trigger. */
    static final String GROUP = "rewind";

    private final String label;

    JobKind(String label) {
        this.label = label;
    }

    /** The name shown to users and used in keys: {@code cut}, {@code checkpoint}, {@code consistent-bookmark}, {@code retain}. */
    String label() {
        return label;
    }

    JobKey jobKey(String set) {
        return new JobKey(label + "/" + set, GROUP);
    }

    TriggerKey triggerKey(String set) {
        return new TriggerKey(label + "/" + set, GROUP);
    }

    /** The kind and set a key names, or empty for a key that is not {@code <kind>/<set>}. */
    static Optional<Named> parse(String keyName) {
        int slash = keyName.indexOf('/');
        if (slash < 0) {
            return Optional.empty();
        }
        String label = keyName.substring(0, slash);
        for (JobKind kind : values()) {
            if (kind.label.equals(label)) {
                return Optional.of(new Named(kind, keyName.substring(slash + 1)));
            }
        }
        return Optional.empty();
    }

    /** A job's kind and set. */
    record Named(JobKind kind, String set) {
    }
}
