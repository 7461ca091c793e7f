package dev.rewind.cli;

import dev.rewind.capture.Sets;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.MemberRecord;
import dev.rewind.volumeset.catalog.SetRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "set", mixinStandardHelpOptions = true, description = "Production volume sets: the volumes of one database, one journal, one write sequence.",
        subcommands = {SetCommand.Create.class, SetCommand.ListSets.class})
final class SetCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Create a set from LVs (VG/LV, possibly from several VGs) and/or whole PVs (pv:NAME).",
                    "Its secondary directory gets a journal, a dirty region log and a replica of every member as it is now."},
            footer = {"", "Examples:", "  rewind set create shop --member vg0/data --member vg0/wal",
                    "  rewind set create erp --member vg0/data --member vg1/log --member pv:nvme1 --secondary /backup/erp"})
    static final class Create extends Subcommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Set name.")
        String name;

        @Option(names = "--member", required = true, paramLabel = "VG/LV|pv:PV", description = "A member; repeat for each.")
        List<String> members;

        @Option(names = "--secondary", paramLabel = "DIR", description = "Where the journal and replica go (default: DATA/sets/NAME).")
        Path secondary;

        @Override
        void run(DataDir data, Output out) throws Exception {
            var vm = data.volumes();
            Path dir = secondary != null ? data.resolve(secondary) : data.defaultSecondary(name);
            SetRecord set;
            try (Progress p = out.progress("copying members into the replica", 0)) {
                set = Sets.create(vm, name, members, dir, p);
            }
            out.line("created set %s with %d member(s) (%s); secondary %s", set.name(), set.members().size(),
                    String.join(", ", set.members().stream().map(m -> m.name() + " " + Sizes.format(m.sizeBytes())).toList()),
                    set.secondaryDir());
            out.json(describe(set));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List sets and their members.")
    static final class ListSets extends Subcommand {
        @Override
        void run(DataDir data, Output out) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (SetRecord set : data.catalog().listSets()) {
                rows.add(describe(set));
                out.line("%-16s %s", set.name(), String.join(", ", set.members().stream().map(m -> m.name() + "=" + m.source()).toList()));
            }
            out.json(Output.map("sets", rows));
        }
    }

    static Map<String, Object> describe(SetRecord set) {
        List<Map<String, Object>> members = new ArrayList<>();
        for (MemberRecord m : set.members()) {
            members.add(Output.map("name", m.name(), "source", m.source(), "sizeBytes", m.sizeBytes()));
        }
        return Output.map("name", set.name(), "uuid", set.uuid().toString(), "secondary", set.secondaryDir().toString(),
                "regionSizeBytes", set.regionSizeBytes(), "members", members);
    }
}
