package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.PvRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pv", mixinStandardHelpOptions = true, description = "Physical volumes: files or block devices, labelled so a swapped device is refused.",
        subcommands = {PvCommand.Create.class, PvCommand.ListPvs.class})
final class PvCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Label a file or block device as a PV (a missing file is created sparse).",
            footer = {"", "Examples:", "  rewind pv create disk1 --path /srv/rewind/disk1.img --size 4G", "  rewind pv create nvme1 --path /dev/nvme1n1"})
    static final class Create extends Subcommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "PV name.")
        String name;

        @Option(names = "--path", required = true, paramLabel = "PATH", description = "File or block device.")
        Path path;

        @Option(names = "--size", paramLabel = "SIZE", converter = SizeConverter.class,
                description = "Size for a new file, or to grow an existing one (K/M/G/T; 1.5G is fine).")
        Long size;

        @Override
        void run(DataDir data, Output out) {
            PvRecord pv = data.volumes().createPv(name, data.resolve(path), size);
            out.line("created PV %s at %s: %s (%s for extents)", pv.name(), pv.path(), Sizes.format(pv.sizeBytes()), Sizes.format(pv.dataBytes()));
            out.json(describe(pv));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List PVs.")
    static final class ListPvs extends Subcommand {
        @Override
        void run(DataDir data, Output out) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (PvRecord pv : data.catalog().listPvs()) {
                rows.add(describe(pv));
                out.line("%-16s %-10s %-8s %s", pv.name(), Sizes.format(pv.sizeBytes()), pv.vgName() == null ? "-" : pv.vgName(), pv.path());
            }
            out.json(Output.map("pvs", rows));
        }
    }

    static Map<String, Object> describe(PvRecord pv) {
        return Output.map("name", pv.name(), "uuid", pv.uuid().toString(), "path", pv.path().toString(),
                "sizeBytes", pv.sizeBytes(), "dataOffsetBytes", pv.dataOffsetBytes(), "vg", pv.vgName());
    }
}
