package dev.rewind.cli;

import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code rewind} command: global options and the list of subcommands. */
@Command(name = "rewind",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        sortOptions = false,
        header = "Continuous data protection for database volumes: bring a set of volumes back to any single write.",
        description = {
                "",
                "Put a database's volumes in a production volume set; every write to them is numbered (seq), journaled on a secondary directory, then written to the primary. Restore the whole set to any seq, time or bookmark, in place or as a clone.",
                "",
                "Start here:  rewind quickstart",
                ""},
        footer = {"",
                "Typical setup:",
                "  rewind init",
                "  rewind pv create disk1 --path /srv/disk1.img --size 4G",
                "  rewind vg create vg0 --pv disk1",
                "  rewind lv create data --vg vg0 --size 2G",
                "  rewind lv create wal --vg vg0 --size 512M",
                "  rewind set create shop --member vg0/data --member vg0/wal",
                "  rewind db attach shop --jdbc jdbc:postgresql://127.0.0.1:5432/shop \\",
                "      --user rewind --password-file shop.pw",
                "",
                "Exit codes: 0 ok, 1 refused (the message says why and what to do), 2 bad usage, "
                        + "3 corrupt data found, 4 I/O error, 70 internal error.",
                "Environment: REWIND_DATA (default data dir), REWIND_CATALOG_PASSWORD (catalog password)."},
        subcommands = {
                InitCommand.class,
                PvCommand.class,
                VgCommand.class,
                LvCommand.class,
                SetCommand.class,
                DbCommand.class,
                SandboxCommand.class,
                StatusCommand.class,
                CutCommand.class,
                ScheduleCommand.class,
                LogCommand.class,
                DiffCommand.class,
                RetainCommand.class,
                BookmarkCommand.class,
                RestoreCommand.class,
                BisectCommand.class,
                VerifyCommand.class,
                QuickstartCommand.class,
                BenchCommand.class,
                ServeCommand.class,
        })
public final class RewindCommand {

    @Option(names = "--data", paramLabel = "DIR", scope = ScopeType.INHERIT,
            description = "Data dir (default: $REWIND_DATA, else ./rewind-data).")
    Path data;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print one JSON document (stable schema) instead of text.")
    boolean json;

    /** The arguments as given, to forward to a running daemon. */
    String[] originalArgs = new String[0];

    /** Where the command reads the time; the data dir and every set it opens share it ({@link Main#run(java.time.Clock, java.io.PrintWriter, java.io.PrintWriter, String...)}). */
    java.time.Clock clock = java.time.Clock.systemUTC();

    Path dataDir() {
        if (data != null) {
            return data;
        }
        String env = System.getenv("REWIND_DATA");
        return Path.of(env != null && !env.isBlank() ? env : "rewind-data");
    }
}
