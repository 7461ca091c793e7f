package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.ByteRangeSet;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.VgRecord;
import dev.rewind.volumeset.manager.VolumeManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "vg", mixinStandardHelpOptions = true, description = "Volume groups: PVs cut into extents.",
        subcommands = {VgCommand.Create.class, VgCommand.ListVgs.class})
final class VgCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a VG from PVs that are in no VG yet.",
            footer = {"", "Example:", "  rewind vg create vg0 --pv disk1,disk2 --extent-size 4M"})
    static final class Create extends Subcommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "VG name.")
        String name;

        @Option(names = "--pv", required = true, split = ",", paramLabel = "PV", description = "PVs, in allocation order.")
        List<String> pvs;

        @Option(names = "--extent-size", paramLabel = "SIZE", converter = SizeConverter.class,
                description = "Extent size, a power of two from 64K to 1G (default 4M).")
        Long extentSize;

        @Override
        void run(DataDir data, Output out) {
            VolumeManager vm = data.volumes();
            VgRecord vg = vm.createVg(name, pvs, extentSize);
            Map<String, Object> d = describe(vm, vg);
            out.line("created VG %s on %s: %s extents of %s", vg.name(), String.join(", ", pvs), d.get("extentCount"), Sizes.format(vg.extentSizeBytes()));
            out.json(d);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List VGs with their free space.")
    static final class ListVgs extends Subcommand {
        @Override
        void run(DataDir data, Output out) {
            VolumeManager vm = data.volumes();
            List<Map<String, Object>> rows = new ArrayList<>();
            for (VgRecord vg : data.catalog().listVgs()) {
                Map<String, Object> d = describe(vm, vg);
                rows.add(d);
                out.line("%-16s extent %-8s %6s extents, %6s free", vg.name(), Sizes.format(vg.extentSizeBytes()), d.get("extentCount"), d.get("freeExtents"));
            }
            out.json(Output.map("vgs", rows));
        }
    }

    static Map<String, Object> describe(VolumeManager vm, VgRecord vg) {
        long total = 0;
        for (var pv : vm.catalog().pvsOfVg(vg.name())) {
            total += pv.dataBytes() / vg.extentSizeBytes();
        }
        long free = vm.freeExtents(vg).values().stream().mapToLong(ByteRangeSet::totalBytes).sum();
        return Output.map("name", vg.name(), "uuid", vg.uuid().toString(), "extentSizeBytes", vg.extentSizeBytes(),
                "extentCount", total, "freeExtents", free,
                "pvs", vm.catalog().pvsOfVg(vg.name()).stream().map(p -> p.name()).toList());
    }
}
