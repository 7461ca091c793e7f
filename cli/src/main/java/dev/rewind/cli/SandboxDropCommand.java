package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.SandboxDatabases;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.SandboxRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rewind sandbox drop}: a sandbox and everything it wrote, gone; the set is untouched. */
@Command(name = "drop", mixinStandardHelpOptions = true,
        description = {"Drop a sandbox: everything written to it is deleted; the set is untouched.",
                "Refused while NBD clients are connected to its exports, unless --force: they are disconnected, and any request "
                        + "they still send fails."},
        footer = {"", "Examples:", "  rewind sandbox drop shop before-drop", "  rewind sandbox drop shop before-drop --force"})
final class SandboxDropCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Option(names = "--force", description = "Disconnect the sandbox's NBD clients first.")
    boolean force;

    @Override
    void run(DataDir data, Output out) throws Exception {
        data.volumes().findSet(setName);
        SandboxRecord r = data.sandboxes().find(setName, name);
        long overlay = data.sandboxes().overlayBytes(r);
        if (data.daemon() != null) {
            SandboxDatabases databases = SandboxDatabases.of(data, "sandbox drop");
            var database = databases.running(setName, name);
            if (database.isPresent()) {
                if (!force) {
                    throw new RewindException("sandbox " + name + " of set " + setName + " has its database running on port "
                            + database.get().port() + "; stop it first (rewind sandbox stop " + setName + " " + name + "), or drop with --force");
                }
                databases.stop(setName, name);
            }
            int clients = data.daemon().sandboxConnectionCount(setName, name);
            if (clients > 0 && !force) {
                throw new RewindException("sandbox " + name + " of set " + setName + " has " + clients
                        + " NBD client(s) connected; disconnect them, or drop with --force");
            }
            if (clients > 0) {
                data.daemon().disconnectSandbox(setName, name);
            }
        }
        data.sandboxes().drop(setName, name);
        SandboxDatabases.forget(data, setName, name);
        out.line("dropped sandbox %s of set %s (seq %d); %s of its writes deleted, the set untouched", name, setName, r.seq(),
                Sizes.format(overlay));
        out.json(Output.map("set", setName, "name", name, "seq", r.seq(), "dropped", true, "overlayBytes", overlay));
    }
}
