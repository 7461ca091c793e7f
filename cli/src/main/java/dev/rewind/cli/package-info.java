/**
 * The {@code rewind} command: one class per subcommand, output (text or JSON) and the single
 * place where failures become a line and an exit code ({@link dev.rewind.cli.Main}). It sits on
 * its subpackages ({@code datadir}, {@code daemon}, {@code quickstart}, {@code bench}); none of
 * them depends on it.
 */
package dev.rewind.cli;
