package dev.rewind.volumeset;

/**
 * A user's mistake or a refused request: what was wrong and what to do about it.
 *
 * <p>The message is one line meant for a person at a terminal; the CLI prints it
 * as is and exits non-zero. Nothing on disk has changed when this is thrown.
 */
public class RewindException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RewindException(String message) {
        super(message);
    }

    public RewindException(String message, Throwable cause) {
        super(message, cause);
    }
}
