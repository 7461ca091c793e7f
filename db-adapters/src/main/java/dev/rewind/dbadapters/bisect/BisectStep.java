package dev.rewind.dbadapters.bisect;

import java.time.Duration;

/**
 * One probe of a bisect, numbered from 1 in the order they ran.
 *
 * @param isBoundary whether {@code seq} is a transaction boundary (a transaction's last seq)
 *                   rather than a single write inside one, or one of the two ends
 * @param isEnd      whether it probed {@code --good} or {@code --bad} itself
 */
public record BisectStep(int number, long seq, boolean isBoundary, boolean isEnd, Verdict verdict, Duration took) {
}
