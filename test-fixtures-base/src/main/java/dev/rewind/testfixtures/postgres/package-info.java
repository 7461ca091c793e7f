/**
 * A real PostgreSQL server for integration tests ({@code *IT}):
 * {@link dev.rewind.testfixtures.postgres.PostgresServer} runs Debian's {@code postgresql}
 * binaries on a fresh data dir in a temp dir, on loopback, and removes it all when closed.
 * Not installed on a laptop: the test is skipped with what to install; with {@code CI=true}: it fails.
 */
package dev.rewind.testfixtures.postgres;
