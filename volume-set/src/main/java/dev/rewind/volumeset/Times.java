package dev.rewind.volumeset;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;

/** Points in time as people write them: ISO-8601 with {@code Z}, with an offset, or local time (this machine's zone). */
public final class Times {
    private Times() {
    }

    public static Instant parse(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(text).toInstant();
            } catch (DateTimeParseException e2) {
                try {
                    return LocalDateTime.parse(text).atZone(ZoneId.systemDefault()).toInstant();
                } catch (DateTimeParseException e3) {
                    throw new RewindException("'" + text + "' is not an ISO-8601 time; write e.g. 2026-11-23T14:05:00Z, "
                            + "2026-11-23T15:05:00+01:00 or local 2026-11-23T14:05:00");
                }
            }
        }
    }
}
