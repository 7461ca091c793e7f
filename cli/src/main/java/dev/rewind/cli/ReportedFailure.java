package dev.rewind.cli;

import dev.rewind.volumeset.RewindException;
import java.util.Map;

/**
 * A command that failed after it had built its result (a coordinated restore whose start
 * step failed, a bisect that found nothing): the one-line reason goes to stderr once, and under
 * {@code --json} the result's fields travel in the one error document on stdout
 * ({@link Main}), instead of a result document followed by an error document.
 */
final class ReportedFailure extends RewindException {
    private static final long serialVersionUID = 1L;

    private final transient Map<String, Object> report;

    ReportedFailure(String message, Map<String, Object> report) {
        super(message);
        this.report = report;
    }

    /** The result the command had built when it failed. */
    Map<String, Object> report() {
        return report;
    }
}
