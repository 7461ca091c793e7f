package dev.rewind.volumeset;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * Points in time as Rewind prints them and as people write them. Printed: ISO-8601 in UTC
 * with microseconds and {@code Z}, always the same width ({@code 2026-11-25T21:54:15.308576Z}).
 * Read: that form, any ISO-8601 time with {@code Z} or an offset, local time (this machine's
 * zone), and the same with a space instead of the {@code T} (as older versions printed).
 */
public final class Times {
    private static final DateTimeFormatter PRINTED = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSX")
            .withZone(ZoneOffset.UTC);
    /** A date, one space, then a time: the space is read as the ISO {@code T}. */
    private static final Pattern SPACE_SEPARATED = Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d{2}:.*");

    private Times() {
    }

    /** Microseconds since the epoch, the unit every stored time of Rewind uses. */
    public static long micros(Instant time) {
        return Math.addExact(Math.multiplyExact(time.getEpochSecond(), 1_000_000L), time.getNano() / 1_000);
    }

    /** The instant of {@code micros} microseconds since the epoch. */
    public static Instant ofMicros(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }

    /** The form every command prints, and {@link #parse} reads back to the same microsecond. */
    public static String format(Instant time) {
        return PRINTED.format(time);
    }

    public static Instant parse(String text) {
        String t = text.strip();
        if (SPACE_SEPARATED.matcher(t).matches()) {
            t = t.substring(0, 10) + "T" + t.substring(11);
        }
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(t).toInstant();
            } catch (DateTimeParseException e2) {
                try {
                    return LocalDateTime.parse(t).atZone(ZoneId.systemDefault()).toInstant();
                } catch (DateTimeParseException e3) {
                    throw new MalformedValueException("'" + text + "' is not an ISO-8601 time; write e.g. 2026-11-23T14:05:00Z, "
                            + "2026-11-23T15:05:00+01:00 or local 2026-11-23T14:05:00");
                }
            }
        }
    }
}
