package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.io.FileAccess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Create the data dir and its catalog (an H2 file inside it, or a PostgreSQL database).",
        footer = {"", "Everything Rewind creates is private to its owner (directories 0700, files 0600) whatever the umask; with "
                + "--group, that group may read it too (0750/0640), e.g. for a backup operator. Nobody else may.",
                "", "Examples:", "  rewind init", "  rewind init --group backup",
                "  REWIND_CATALOG_PASSWORD=... rewind init --catalog-user rewind \\",
                "      --catalog jdbc:postgresql://127.0.0.1:5432/rewind"})
final class InitCommand extends Subcommand {
    @Option(names = "--catalog", paramLabel = "JDBC_URL", description = "Catalog database (default: an H2 file in the data dir).")
    String catalogUrl;

    @Option(names = "--catalog-user", paramLabel = "USER", description = "Catalog user; the password comes from $REWIND_CATALOG_PASSWORD.")
    String catalogUser;

    @Option(names = "--group", paramLabel = "NAME", description = "A group that may read the data dir, the secondaries and the "
            + "volumes (never write them); default: the owner only.")
    String group;

    @Override
    boolean runsInDaemon() {
        return false;
    }

    @Override
    void run(DataDir data, Output out) {
        FileAccess access;
        try {
            access = group == null ? FileAccess.OWNER_ONLY : FileAccess.group(group);
        } catch (IllegalArgumentException e) {
            throw new RewindException("--group " + e.getMessage());
        }
        var catalog = data.initialize(catalogUrl, catalogUser, access);
        out.line("initialized %s (catalog: %s; readable by %s)", data.path(), catalog.config().redactedUrl(),
                access.groupName().map(g -> "its owner and group " + g).orElse("its owner only"));
        out.json(Output.map("dataDir", data.path().toString(), "catalog", catalog.config().redactedUrl(),
                "group", access.groupName().orElse(null)));
    }
}
