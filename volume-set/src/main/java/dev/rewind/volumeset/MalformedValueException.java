package dev.rewind.volumeset;

/**
 * A value that cannot be read at all: a time, size, duration, seq, point or database position
 * that is not written in any form Rewind accepts ({@code --to-time yesterday}, {@code --to-lsn zz}).
 * Bad usage, not a refusal: a well-formed value that names something absent (an unknown bookmark,
 * a seq beyond the newest write) is a plain {@link RewindException}. The message names the value
 * and how to write it.
 */
public class MalformedValueException extends RewindException {
    private static final long serialVersionUID = 1L;

    public MalformedValueException(String message) {
        super(message);
    }
}
