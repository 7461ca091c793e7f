/**
 * The {@code rewind} command: one class per subcommand, the data dir, output (text or
 * JSON) and the single place where failures become a line and an exit code ({@link dev.rewind.cli.Main}).
 */
package dev.rewind.cli;
