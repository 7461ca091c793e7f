package dev.rewind.scheduler;

import java.time.Duration;
import java.time.Instant;

/**
 * One scheduled job of a set, as the job store holds it.
 *
 * @param set          the production volume set
 * @param kind         {@code cut} or {@code checkpoint}
 * @param every        the period
 * @param nextFire     when it runs next
 * @param previousFire when it last ran, or null if it has not run since it was scheduled
 */
public record ScheduledJob(String set, String kind, Duration every, Instant nextFire, Instant previousFire) {
}
