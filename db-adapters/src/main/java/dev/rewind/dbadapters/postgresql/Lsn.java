package dev.rewind.dbadapters.postgresql;

import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.volumeset.MalformedValueException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL log sequence number: a byte position in the WAL, printed as two hex halves
 * {@code X/Y} (the high and the low 32 bits, e.g. {@code 0/3A0000F8}). Its
 * {@link DatabasePosition} order is the 64-bit value itself.
 */
record Lsn(long value) implements Comparable<Lsn> {
    private static final Pattern TEXT = Pattern.compile("([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})");

    /** Parses {@code X/Y}; a RewindException saying how to write an LSN otherwise. */
    static Lsn parse(String text) {
        Matcher m = text == null ? null : TEXT.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw new MalformedValueException("'" + text + "' is not an LSN; give it as PostgreSQL prints it, e.g. 0/3A0000F8");
        }
        return new Lsn(Long.parseUnsignedLong(m.group(1), 16) << 32 | Long.parseUnsignedLong(m.group(2), 16));
    }

    DatabasePosition position() {
        return new DatabasePosition(toString(), value);
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    /** PostgreSQL's own form: upper-case hex halves without leading zeros ({@code 0/15260D0}). */
    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase(Locale.ROOT) + "/" + Long.toHexString(value & 0xFFFF_FFFFL).toUpperCase(Locale.ROOT);
    }
}
