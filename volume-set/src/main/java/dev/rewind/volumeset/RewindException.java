package dev.rewind.volumeset;

/**
 * A user's mistake or a refused request: what was wrong and what to do about it.
 *
 * <p>The message is one line meant for a person at a terminal; the CLI prints it
 * as is and exits non-zero. Nothing on disk has changed when this is thrown.
 * A refusal made {@link #withHint with a hint} keeps the reason and the advice apart
 * (the message is {@code REASON; HINT}), so that {@code --json} can give them as two fields.
 */
public class RewindException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String hint;

    public RewindException(String message) {
        super(message);
        this.hint = null;
    }

    public RewindException(String message, Throwable cause) {
        super(message, cause);
        this.hint = null;
    }

    /** {@code reason; hint} as the message; {@code hint} may be null. */
    protected RewindException(String reason, String hint, Throwable cause) {
        super(hint == null ? reason : reason + "; " + hint, cause);
        this.hint = hint;
    }

    /** A refusal saying why ({@code reason}) and, apart, what to do ({@code hint}). */
    public static RewindException withHint(String reason, String hint) {
        return new RewindException(reason, hint, null);
    }

    /** Why it was refused: the message without the hint. */
    public String reason() {
        String m = getMessage();
        return hint == null ? m : m.substring(0, m.length() - hint.length() - 2);
    }

    /** What to do about it, or null when the message does not say it apart. */
    public String hint() {
        return hint;
    }
}
