/**
 * The data dir a {@code rewind} command works in: its config file, catalog and default
 * secondaries, and what a running daemon lends the commands it runs. Used by the commands,
 * the daemon and the quickstart tour; depends on none of them.
 */
package dev.rewind.cli.datadir;
