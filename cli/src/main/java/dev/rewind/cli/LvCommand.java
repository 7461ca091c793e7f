package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.LvRecord;
import dev.rewind.volumeset.catalog.VgRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "lv", mixinStandardHelpOptions = true, description = "Logical volumes: extents of a VG, in order.",
        subcommands = {LvCommand.Create.class, LvCommand.ListLvs.class})
final class LvCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Allocate a linear LV (the size is rounded up to whole extents).",
            footer = {"", "Example:", "  rewind lv create data --vg vg0 --size 2G"})
    static final class Create extends Subcommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "LV name (becomes the member name in a set).")
        String name;

        @Option(names = "--vg", required = true, paramLabel = "VG", description = "Volume group.")
        String vg;

        @Option(names = "--size", required = true, paramLabel = "SIZE", converter = SizeConverter.class,
                description = "Size (K/M/G/T; 1.5G is fine).")
        long size;

        @Override
        void run(DataDir data, Output out) {
            LvRecord lv = data.volumes().createLv(name, vg, size);
            out.line("created LV %s/%s: %s in %d segment(s)", lv.vgName(), lv.name(), Sizes.format(lv.sizeBytes()), lv.segments().size());
            out.json(describe(lv));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List LVs of every VG.")
    static final class ListLvs extends Subcommand {
        @Override
        void run(DataDir data, Output out) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (VgRecord vg : data.catalog().listVgs()) {
                for (LvRecord lv : data.catalog().lvsOfVg(vg.name())) {
                    rows.add(describe(lv));
                    out.line("%-24s %-10s %s", lv.vgName() + "/" + lv.name(), Sizes.format(lv.sizeBytes()),
                            data.catalog().setHolding(lv.vgName(), lv.name(), null).map(s -> "in set " + s).orElse("-"));
                }
            }
            out.json(Output.map("lvs", rows));
        }
    }

    static Map<String, Object> describe(LvRecord lv) {
        return Output.map("vg", lv.vgName(), "name", lv.name(), "uuid", lv.uuid().toString(), "sizeBytes", lv.sizeBytes(),
                "segments", lv.segments().stream().map(s -> Output.map("pv", s.pvName(), "startExtent", s.startExtent(),
                        "extentCount", s.extentCount())).toList());
    }
}
