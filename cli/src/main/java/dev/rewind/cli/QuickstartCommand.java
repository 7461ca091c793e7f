package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.quickstart.QuickstartStory;
import dev.rewind.volumeset.RewindException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = {"A five-second tour: a bank in an H2 database on a protected volume set, a mistaken DELETE without WHERE, "
                + "and a restore to the exact write before it. Needs no root and no server; works in a new temp data dir it leaves "
                + "behind for you to explore."},
        footer = {"", "Example:", "  rewind quickstart", "  rewind quickstart --dir /tmp/rewind-tour --transfers 5000"})
final class QuickstartCommand extends Subcommand {
    @Option(names = "--dir", paramLabel = "DIR", description = "Data dir to create (must not exist; default: a new temp dir).")
    Path dir;

    @Option(names = "--transfers", paramLabel = "N", defaultValue = "2000", description = "Bank transfers before the mistake (default ${DEFAULT-VALUE}).")
    int transfers;

    @Override
    boolean runsInDaemon() {
        return false;
    }

    @Override
    void run(DataDir unusedDataDir, Output out) throws Exception { // the tour makes a data dir of its own
        if (transfers < 1 || transfers > 1_000_000) {
            throw new RewindException("--transfers must be between 1 and 1000000");
        }
        Path root = dir != null ? dir : Files.createTempDirectory("rewind-quickstart-");
        if (dir != null && Files.exists(dir)) {
            throw new RewindException(dir + " already exists; give a new directory");
        }
        try (DataDir data = new DataDir(root, root().clock)) {
            QuickstartStory.Result result = new QuickstartStory(data, transfers, out.isJson() ? null : out.out()).run();
            out.json(result);
            if (!result.invariantHolds()) {
                throw new RewindException("the restored database does not match: " + result);
            }
        }
    }

}
