package dev.rewind.dbadapters.coordinate;

import java.time.Duration;

/** One finished step of a coordinated restore: its name ({@code stop}, {@code restore}, ...), how long it took, and what came of it. */
public record Step(String name, Duration took, boolean ok, String detail) {
}
