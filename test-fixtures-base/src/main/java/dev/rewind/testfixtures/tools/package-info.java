/**
 * The one skip-or-fail-in-CI helper for real tools: {@link dev.rewind.testfixtures.tools.Tools}
 * finds external programs (qemu-img, nbdinfo, fio, mkfs.ext4, ...), checks for root, and runs
 * programs with a timeout. Missing on a laptop: the test is skipped with what to install; with
 * {@code CI=true}: the test fails.
 */
package dev.rewind.testfixtures.tools;
