package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.cli.datadir.CatalogCapture;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.MemberRecord;
import dev.rewind.volumeset.catalog.SetRecord;
import dev.rewind.volumeset.catalog.SetSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

@Command(name = "set", mixinStandardHelpOptions = true, description = "Production volume sets: the volumes of one database, one journal, one write sequence.",
        subcommands = {SetCommand.Create.class, SetCommand.Update.class, SetCommand.ListSets.class, SetCommand.Delete.class, SetCommand.Reopen.class})
final class SetCommand {
    /** Words that follow {@code rewind bookmark} as subcommands, so they cannot name a set there. */
    static final List<String> RESERVED_NAMES = List.of("list", "delete");

    @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Create a set from LVs (VG/LV, possibly from several VGs) and/or whole PVs (pv:NAME).",
                    "Its secondary directory gets a journal, a dirty region log and a replica of every member as it is now.",
                    "Writes are grouped into transactions, cut by whichever --cut-* rule is met first (none: only on 'rewind cut'); "
                    + "each transaction stores a forward and a backward increment, compressed with --codec."},
            footer = {"", "Examples:", "  rewind set create shop --member vg0/data --member vg0/wal",
                    "  rewind set create shop --member vg0/data \\",
                    "      --cut-every 30s --cut-writes 50000 --keep every-write:24h",
                    "  rewind set create erp --member vg0/data --member vg1/log --member pv:nvme1 \\",
                    "      --secondary /backup/erp"})
    static final class Create extends Subcommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Set name.")
        String name;

        @Option(names = "--member", required = true, paramLabel = "VG/LV|pv:PV", description = "A member; repeat for each.")
        List<String> members;

        @Option(names = "--secondary", paramLabel = "DIR", description = "Where the journal and replica go (default: DATA/sets/NAME).")
        Path secondary;

        @Mixin
        CaptureSettingsOptions capture;

        @Override
        void run(DataDir data, Output out) throws Exception {
            if (RESERVED_NAMES.contains(name)) {
                throw new RewindException("a set may not be called '" + name + "' (rewind bookmark " + name + " is a command); choose another name");
            }
            SetSettings settings = capture.applyTo(SetSettings.defaults(name), spec.commandLine());
            var vm = data.volumes();
            Path dir = secondary != null ? data.resolve(secondary) : data.defaultSecondary(name);
            SetRecord set;
            try (Progress p = out.progress("copying members into the replica", 0)) {
                set = Sets.create(vm, name, members, dir, p);
            }
            data.catalog().updateSettings(settings);
            if (data.daemon() != null) {
                data.daemon().openSet(name).close(); // the daemon keeps it open: its members are exported from now on
            }
            out.line("created set %s with %d member(s) (%s); secondary %s", set.name(), set.members().size(),
                    String.join(", ", set.members().stream().map(m -> m.name() + " " + Sizes.format(m.sizeBytes())).toList()),
                    set.secondaryDir());
            out.line("  %s", describe(settings));
            Map<String, Object> json = describe(set);
            json.put("settings", describe(settings, null));
            out.json(json);
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Change how a set is captured: its cut rules, increment codec and every-write horizon.",
                    "Options not given stay as they are; 0 or off turns a cut rule off. With rewind serve running the set "
                    + "follows at once (its period-cut job is scheduled anew); otherwise at its next open."},
            footer = {"", "Examples:", "  rewind set update shop --cut-every 30s --cut-adaptive 5s..5m",
                    "  rewind set update shop --cut-writes 50000 --cut-bytes 256M --codec lz4",
                    "  rewind set update shop --cut-every off --keep every-write:24h", "  rewind set update shop --keep all"})
    static final class Update extends Subcommand {
        @Parameters(index = "0", paramLabel = "SET", description = "Set name.")
        String name;

        @Mixin
        CaptureSettingsOptions capture;

        @Override
        void run(DataDir data, Output out) throws Exception {
            if (!capture.anyGiven()) {
                throw new ParameterException(spec.commandLine(), "nothing to change; give --cut-every, --cut-adaptive, --cut-writes, "
                        + "--cut-bytes, --codec or --keep");
            }
            data.volumes().findSet(name);
            SetSettings before = data.catalog().settings(name);
            SetSettings after = capture.applyTo(before, spec.commandLine());
            data.catalog().updateSettings(after);
            if (data.daemon() != null) {
                data.daemon().settingsChanged(name);
            } else if (after.keepEveryWrite() != null && !java.util.Objects.equals(after.keepEveryWrite(), before.keepEveryWrite())) {
                data.openSet(name).close(); // the horizon frees the journal it no longer needs now
            }
            out.line("set %s: %s", name, describe(after));
            out.json(describe(after, before));
        }
    }

    /** Such as {@code cuts every 30s, 50000 writes; increments zstd; keeps every write for 24h}. */
    static String describe(SetSettings s) {
        return "cuts " + CatalogCapture.cutRules(s).describe() + "; increments " + s.codec() + "; keeps every write "
                + (s.keepEveryWrite() == null ? "forever" : "for " + Durations.format(s.keepEveryWrite()))
                + (s.keepRules() == null ? (s.keepEveryWrite() == null ? "" : ", every transaction boundary forever")
                        : ", then " + s.keepRules() + " (retention fades out the rest)")
                + (s.keepMaxBytes() > 0 ? "; at most " + Sizes.format(s.keepMaxBytes()) + " on the secondary" : "");
    }

    /** The JSON form of settings, with the settings before a change when {@code before} is not null. */
    static Map<String, Object> describe(SetSettings s, SetSettings before) {
        Map<String, Object> m = Output.map("set", s.setName(), "cutEvery", format(s.cutEvery()), "cutAdaptiveMin", format(s.cutAdaptiveMin()),
                "cutAdaptiveMax", format(s.cutAdaptiveMax()), "cutWrites", s.cutWrites(), "cutBytes", s.cutBytes(), "codec", s.codec(),
                "keepEveryWrite", format(s.keepEveryWrite()), "keepRules", s.keepRules(),
                "keep", CatalogCapture.retentionPolicy(s).text(), "maxSizeBytes", s.keepMaxBytes() > 0 ? s.keepMaxBytes() : null,
                "cutRules", CatalogCapture.cutRules(s).describe());
        if (before != null) {
            m.put("before", describe(before, null));
        }
        return m;
    }

    private static String format(java.time.Duration d) {
        return d == null ? null : Durations.format(d);
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

    @Command(name = "delete", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Remove a set from the catalog, with its bookmarks and restore records; its LVs and PVs stay, free for another set.",
                    "Its secondary (journal, replica: the set's history) stays on disk unless --delete-secondary.",
                    "Give the set's name twice (SET and --confirm SET): a typo deletes nothing. Refused while the set is in use "
                    + "by another process, or while rewind serve has NBD clients on it (rewind serve stops exporting it at once)."},
            footer = {"", "Examples:", "  rewind set delete shop --confirm shop",
                    "  rewind set delete shop --confirm shop --delete-secondary"})
    static final class Delete extends Subcommand {
        @Parameters(index = "0", paramLabel = "SET", description = "Set name.")
        String name;

        @Option(names = "--confirm", paramLabel = "SET", description = "The set's name again.")
        String confirm;

        @Option(names = "--delete-secondary", description = "Also delete the secondary directory: the set's whole history, for good.")
        boolean deleteSecondary;

        @Override
        void run(DataDir data, Output out) throws Exception {
            if (!name.equals(confirm)) {
                throw new ParameterException(spec.commandLine(), (confirm == null ? "deleting a set needs its name twice"
                        : "--confirm '" + confirm + "' is not the set's name '" + name + "'") + "; write: rewind set delete " + name + " --confirm " + name);
            }
            data.volumes().findSet(name);
            int sandboxes = data.catalog().sandboxes().list(name).size();
            if (sandboxes > 0) {
                throw new RewindException("set " + name + " has " + sandboxes + " sandbox(es), which read its history; drop them first"
                        + " (rewind sandbox list " + name + ")");
            }
            if (data.daemon() != null) {
                data.daemon().closeSet(name);
            }
            Path dir;
            try {
                dir = Sets.delete(data.volumes(), name, deleteSecondary);
            } catch (IOException | RuntimeException e) {
                if (data.daemon() != null && data.catalog().findSet(name).isPresent()) {
                    data.daemon().openSet(name).close(); // not deleted: serve it again
                }
                throw e;
            }
            out.line("deleted set %s%s", name, deleteSecondary ? " and its secondary " + dir
                    : "; its history stays in " + dir + " (remove it by hand, or next time give --delete-secondary)");
            out.json(Output.map("name", name, "secondary", dir.toString(), "secondaryDeleted", deleteSecondary));
        }
    }

    @Command(name = "reopen", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Close a set and open it again in rewind serve, running recovery, keeping every acknowledged write: brings "
                    + "back a set that stopped taking writes after an I/O error (a full or read-only secondary) once the cause is gone, "
                    + "or a set that could not be opened (offline) once its file is repaired. The set's NBD clients are disconnected "
                    + "and may connect again at once; the other sets are not touched.",
                    "rewind serve retries a stopped set by itself (after 1s, then doubling to every 30s, each time once its secondary "
                            + "takes a test write; rewind status shows the next attempt): reopen brings it back at once.",
                    "Without rewind serve running, every command opens the set anew, so there is nothing to reopen."},
            footer = {"", "Examples:", "  rewind set reopen shop", "  rewind status shop"})
    static final class Reopen extends Subcommand {
        @Parameters(index = "0", paramLabel = "SET", description = "Set name.")
        String name;

        @Override
        void run(DataDir data, Output out) throws Exception {
            data.volumes().findSet(name);
            if (data.daemon() == null) {
                try (CapturedSet set = data.openSet(name)) {
                    out.line("set %s opens (seq %d); rewind serve is not running, so there was nothing to reopen", name, set.lastSeq());
                    out.json(Output.map("name", name, "state", "online", "lastSeq", set.lastSeq(), "reopened", false));
                }
                return;
            }
            data.daemon().reopenSet(name);
            try (CapturedSet set = data.openSet(name)) {
                out.line("set %s reopened: seq %d, taking writes", name, set.lastSeq());
                out.json(Output.map("name", name, "state", "online", "lastSeq", set.lastSeq(), "reopened", true));
            }
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
