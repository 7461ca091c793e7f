/**
 * A real MariaDB server for integration tests ({@code *IT}):
 * {@link dev.rewind.testfixtures.mariadb.MariaDbServer} runs Debian's {@code mariadb-server}
 * binaries on a fresh (or a given) data dir, on loopback, with binary logging on, and stops it
 * and removes its temp dir when closed. Not installed on a laptop: the test is skipped with
 * what to install; with {@code CI=true}: it fails.
 */
package dev.rewind.testfixtures.mariadb;
