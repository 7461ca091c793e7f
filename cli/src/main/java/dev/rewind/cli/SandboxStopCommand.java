package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.SandboxDatabases;
import dev.rewind.volumeset.RewindException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code rewind sandbox stop}: in the daemon, shuts down the database started on a sandbox and unmounts its exports; the sandbox stays. */
@Command(name = "stop", mixinStandardHelpOptions = true,
        description = {"Stop the database started on a sandbox (fast shutdown) and unmount the sandbox's file systems.",
                "The sandbox and what was written to it stay until rewind sandbox drop."},
        footer = {"", "Examples:", "  rewind sandbox stop shop before-drop"})
final class SandboxStopCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Parameters(index = "1", paramLabel = "NAME")
    String sandboxName;

    @Override
    void run(DataDir data, Output out) throws Exception {
        SandboxDatabases databases = SandboxDatabases.of(data, "sandbox stop");
        data.sandboxes().find(setName, sandboxName);
        if (!databases.stop(setName, sandboxName)) {
            throw new RewindException("no database runs on sandbox " + sandboxName + " of set " + setName
                    + "; start one with: rewind sandbox start " + setName + " " + sandboxName);
        }
        out.line("stopped the database of sandbox %s (set %s) and unmounted its file systems", sandboxName, setName);
        out.json(Output.map("set", setName, "sandbox", sandboxName, "stopped", true));
    }
}
