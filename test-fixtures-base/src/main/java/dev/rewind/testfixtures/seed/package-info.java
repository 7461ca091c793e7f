/**
 * The one seed helper of the test suite: every seeded test takes its seeds from
 * {@link dev.rewind.testfixtures.seed.Seeds}, which names the seed in the test's display name
 * and replays it with {@code -Drewind.seed=N}.
 */
package dev.rewind.testfixtures.seed;
