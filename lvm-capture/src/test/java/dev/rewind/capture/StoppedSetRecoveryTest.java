package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class StoppedSetRecoveryTest {
    @Test
    void backoffDoublesFromItsStartUpToItsCap() {
        var b = StoppedSetRecovery.Backoff.DEFAULT;
        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L), LongStream.range(0, 7).mapToObj(n -> b.after((int) n).toSeconds()).toList());
        assertThrows(IllegalArgumentException.class, () -> new StoppedSetRecovery.Backoff(Duration.ofSeconds(5), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new StoppedSetRecovery.Backoff(Duration.ZERO, Duration.ofSeconds(1)));
    }

    @Test
    void aStoppedDurationReadsInWholeSeconds() {
        assertEquals("0s", StoppedSetRecovery.human(Duration.ofMillis(900)));
        assertEquals("2m 5s", StoppedSetRecovery.human(Duration.ofSeconds(125)));
        assertEquals("1h 0m 7s", StoppedSetRecovery.human(Duration.ofSeconds(3607)));
    }
}
