package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "verify", mixinStandardHelpOptions = true, description = "Read every journal record and replica chunk of a set and check its checksum.",
        footer = {"", "Exit code 3 and the file and offset if anything is corrupt.", "", "Example:", "  rewind verify shop"})
final class VerifyCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Override
    void run(DataDir data, Output out) throws Exception {
        try (CapturedSet set = data.openSet(setName)) {
            long records = set.verify();
            out.line("set %s: %d journal records and every replica chunk verified", setName, records);
            out.json(Output.map("set", setName, "recordsVerified", records, "ok", true));
        }
    }
}
