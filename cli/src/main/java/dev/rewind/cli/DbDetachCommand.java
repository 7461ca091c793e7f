package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.RewindException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code rewind db detach}: forgets a set's database and its sampled positions; the set, its writes and its bookmarks stay. */
@Command(name = "detach", mixinStandardHelpOptions = true,
        description = {"Forget a set's attached database and its sampled positions. The set, its writes and its bookmarks stay."},
        footer = {"", "Example:", "  rewind db detach shop"})
final class DbDetachCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Override
    void run(DataDir data, Output out) {
        data.volumes().findSet(setName);
        if (!data.catalog().databases().detach(setName)) {
            throw new RewindException("set " + setName + " has no database attached; nothing to detach");
        }
        if (data.daemon() != null) {
            data.daemon().databaseChanged(setName);
        }
        out.line("detached the database of set %s (its sampled positions are forgotten; bookmarks stay)", setName);
        out.json(Output.map("set", setName, "detached", true));
    }
}
