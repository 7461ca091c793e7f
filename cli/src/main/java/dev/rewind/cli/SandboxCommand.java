package dev.rewind.cli;

import picocli.CommandLine.Command;

/** {@code rewind sandbox}: writable throwaway copies of a set's past, without copying a volume, and a private copy of its database started on one. */
@Command(name = "sandbox", mixinStandardHelpOptions = true,
        description = {"Writable throwaway copies of a set's past: nothing copied, production untouched.",
                "A sandbox opens every member of a set as it was at a point, writable. Reads come from the set's history; writes "
                        + "stay in the sandbox's own overlay, never in the journal or the primary. rewind serve offers each member as "
                        + "the NBD export <set>/<member>@sandbox:<NAME>. Sandboxes survive a daemon restart; while one exists, the "
                        + "history it reads is kept. sandbox start runs the set's attached database on one, on its own loopback port, "
                        + "to query it, pg_dump a table out of it or copy rows back into production by SQL."},
        subcommands = {SandboxCreateCommand.class, SandboxListCommand.class, SandboxDropCommand.class, SandboxStartCommand.class,
                SandboxStopCommand.class},
        footer = {"", "Examples:", "  rewind sandbox create shop before-drop --at bookmark:before-upgrade",
                "  rewind sandbox create shop at-1403 --at time:2026-11-25T14:03:00Z", "  rewind sandbox list",
                "  qemu-img info 'nbd+unix:///shop/data@sandbox:before-drop?socket=DATA/nbd.sock'",
                "  rewind sandbox start shop before-drop    # mounts, starts the database",
                "  rewind sandbox start shop before-drop --port 55432 --timeout 20m",
                "  rewind sandbox stop shop before-drop", "  rewind sandbox drop shop before-drop"})
final class SandboxCommand {
}
