package dev.rewind.cli;

import picocli.CommandLine.Command;

/** {@code rewind sandbox}: a set opened writable at a past point, and a private copy of its database started on it. */
@Command(name = "sandbox", mixinStandardHelpOptions = true,
        description = {"Sandboxes: a set opened writable at a past point without touching production. Start the set's attached",
                "database on one (on its own loopback port) to query it, pg_dump a table out of it or copy rows back by SQL."},
        subcommands = {SandboxStartCommand.class, SandboxStopCommand.class},
        footer = {"", "Examples:",
                "  rewind sandbox start shop before-drop                 # mounts its exports, starts the database, prints how to connect",
                "  rewind sandbox start shop before-drop --port 55432 --timeout 20m",
                "  rewind sandbox stop shop before-drop"})
final class SandboxCommand {
}
