package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Create the data dir and its catalog (an H2 file inside it, or a PostgreSQL database).",
        footer = {"", "Examples:", "  rewind init", "  REWIND_CATALOG_PASSWORD=... rewind init --catalog jdbc:postgresql://127.0.0.1:5432/rewind --catalog-user rewind"})
final class InitCommand extends Subcommand {
    @Option(names = "--catalog", paramLabel = "JDBC_URL", description = "Catalog database (default: an H2 file in the data dir).")
    String catalogUrl;

    @Option(names = "--catalog-user", paramLabel = "USER", description = "Catalog user; the password comes from $REWIND_CATALOG_PASSWORD.")
    String catalogUser;

    @Override
    boolean runsInDaemon() {
        return false;
    }

    @Override
    void run(DataDir data, Output out) {
        var catalog = data.initialize(catalogUrl, catalogUser);
        out.line("initialized %s (catalog: %s)", data.path(), catalog.config().redactedUrl());
        out.json(Output.map("dataDir", data.path().toString(), "catalog", catalog.config().redactedUrl()));
    }
}
