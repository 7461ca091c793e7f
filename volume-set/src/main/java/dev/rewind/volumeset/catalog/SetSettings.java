package dev.rewind.volumeset.catalog;

import java.time.Duration;

/**
 * How a set is captured, as the catalog keeps it: when transactions are cut (a fixed period,
 * an adaptive period between a minimum and a maximum, a number of writes, a number of bytes;
 * null or zero is off), how increments are compressed ({@code zstd}, {@code lz4} or
 * {@code none}), how long every single write stays restorable ({@code keepEveryWrite};
 * null keeps every write forever), and which older points stay ({@code keepRules}: the
 * retention rules after every-write as {@code --keep} writes them; null keeps every
 * transaction boundary), and the most its secondary may hold ({@code keepMaxBytes}, 0: no
 * limit). A set without a row has {@link #defaults}.
 */
public record SetSettings(String setName, Duration cutEvery, Duration cutAdaptiveMin, Duration cutAdaptiveMax,
                          long cutWrites, long cutBytes, String codec, Duration keepEveryWrite, String keepRules,
                          long keepMaxBytes) {
    public static final String DEFAULT_CODEC = "zstd";

    public SetSettings {
        if (codec == null) {
            throw new IllegalArgumentException("codec is required");
        }
    }

    /** Cuts on demand only, zstd, every write kept forever. */
    public static SetSettings defaults(String setName) {
        return new SetSettings(setName, null, null, null, 0, 0, DEFAULT_CODEC, null, null, 0);
    }

    public SetSettings withCutEvery(Duration d) {
        return new SetSettings(setName, d, cutAdaptiveMin, cutAdaptiveMax, cutWrites, cutBytes, codec, keepEveryWrite, keepRules, keepMaxBytes);
    }

    public SetSettings withCutAdaptive(Duration min, Duration max) {
        return new SetSettings(setName, cutEvery, min, max, cutWrites, cutBytes, codec, keepEveryWrite, keepRules, keepMaxBytes);
    }

    public SetSettings withCutWrites(long n) {
        return new SetSettings(setName, cutEvery, cutAdaptiveMin, cutAdaptiveMax, n, cutBytes, codec, keepEveryWrite, keepRules, keepMaxBytes);
    }

    public SetSettings withCutBytes(long n) {
        return new SetSettings(setName, cutEvery, cutAdaptiveMin, cutAdaptiveMax, cutWrites, n, codec, keepEveryWrite, keepRules, keepMaxBytes);
    }

    public SetSettings withCodec(String c) {
        return new SetSettings(setName, cutEvery, cutAdaptiveMin, cutAdaptiveMax, cutWrites, cutBytes, c, keepEveryWrite, keepRules, keepMaxBytes);
    }

    public SetSettings withKeepMaxBytes(long bytes) {
        return new SetSettings(setName, cutEvery, cutAdaptiveMin, cutAdaptiveMax, cutWrites, cutBytes, codec, keepEveryWrite, keepRules, bytes);
    }

    public SetSettings withKeepRules(String rules) {
        return new SetSettings(setName, cutEvery, cutAdaptiveMin, cutAdaptiveMax, cutWrites, cutBytes, codec, keepEveryWrite, rules, keepMaxBytes);
    }

    public SetSettings withKeepEveryWrite(Duration d) {
        return new SetSettings(setName, cutEvery, cutAdaptiveMin, cutAdaptiveMax, cutWrites, cutBytes, codec, d, keepRules, keepMaxBytes);
    }
}
