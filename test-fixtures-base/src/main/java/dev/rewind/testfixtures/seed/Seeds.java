package dev.rewind.testfixtures.seed;

import java.util.stream.LongStream;

/**
 * Where every seeded test gets its seeds: a fixed list by default (never an unprinted random
 * one), {@code -Drewind.seed=N} to replay one seed, {@code -Drewind.seeds=N} to run more (or
 * fewer) of a range. A seeded test is a parameterized test over the seeds, named with
 * {@link #NAME} so that the seed and the replay command are in its display name, hence in every
 * failure report:
 *
 * <pre>{@code
 * static LongStream seeds() {
 *     return Seeds.range(0x5EED0000L, 50);
 * }
 *
 * @ParameterizedTest(name = Seeds.NAME)
 * @MethodSource("seeds")
 * void randomOperationsMatchTheModel(long seed) {
 *     Random random = new Random(seed);
 *     ... assertEquals(expected, actual, Seeds.describe(seed) + ", op " + op);
 * }
 * }</pre>
 *
 * A test with a single workload uses {@link #of(long...)} with one default seed.
 */
public final class Seeds {
    /** Replays one seed: {@code -Drewind.seed=N} runs every seeded test with N only. */
    public static final String PROPERTY = "rewind.seed";
    /** Changes how many seeds {@link #range} yields: {@code -Drewind.seeds=200}. */
    public static final String COUNT_PROPERTY = "rewind.seeds";
    /** The display name of a test parameterized by its seed (the seed is argument 0). */
    public static final String NAME = "seed {0} (replay: -D" + PROPERTY + "={0})";

    private Seeds() {
    }

    /**
     * {@code defaultCount} seeds {@code first, first + 1, ...}; {@code -Drewind.seeds=N} changes
     * the count, {@code -Drewind.seed=S} replaces them all with S.
     */
    public static LongStream range(long first, int defaultCount) {
        Long replay = replaySeed();
        if (replay != null) {
            return LongStream.of(replay);
        }
        return LongStream.range(0, count(defaultCount)).map(i -> first + i);
    }

    /** These seeds, or only the one of {@code -Drewind.seed=S}. */
    public static LongStream of(long... defaults) {
        if (defaults.length == 0) {
            throw new IllegalArgumentException("Seeds.of needs at least one default seed");
        }
        Long replay = replaySeed();
        return replay != null ? LongStream.of(replay) : LongStream.of(defaults);
    }

    /** "seed S (replay with -Drewind.seed=S)": for assertion messages and for what a test prints. */
    public static String describe(long seed) {
        return "seed " + seed + " (replay with -D" + PROPERTY + "=" + seed + ")";
    }

    /** The seed of {@code -Drewind.seed}, or null when it is not set. */
    static Long replaySeed() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return Long.decode(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a number; give the seed a failed test printed, e.g. -D"
                    + PROPERTY + "=1234");
        }
    }

    private static int count(int defaultCount) {
        String value = System.getProperty(COUNT_PROPERTY);
        if (value == null || value.isBlank()) {
            return defaultCount;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + COUNT_PROPERTY + "=" + value + " is not a positive number of seeds, e.g. -D" + COUNT_PROPERTY + "=200");
    }
}
