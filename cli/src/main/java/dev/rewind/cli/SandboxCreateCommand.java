package dev.rewind.cli;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.PointResolver;
import dev.rewind.capture.sandbox.Sandbox;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.SandboxCheck;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rewind sandbox create}: a writable throwaway view of a set at a past point. */
@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Create a sandbox: the set as it was at POINT, writable, its writes kept apart.",
                "Nothing is copied: it is ready at once, whatever the size of the volumes or the length of the history."},
        footer = {"", "POINT: a seq (41234), bookmark:NAME, or time:ISO-8601 (time:2026-11-25T14:03:00Z); the newest write at or before it.",
                "", "Examples:", "  rewind sandbox create shop before-drop --at bookmark:before-upgrade",
                "  rewind sandbox create shop probe --at 41234 --json"})
final class SandboxCreateCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Parameters(index = "1", paramLabel = "NAME", description = "Up to 64 letters, digits, '_', '.', '+' or '-'.")
    String name;

    @Option(names = "--at", required = true, paramLabel = "POINT", description = "Where in the history: a seq, bookmark:NAME or time:ISO-8601.")
    String at;

    @Override
    void run(DataDir data, Output out) throws Exception {
        data.volumes().findSet(setName);
        if (name.startsWith(dev.rewind.cli.db.DatabaseLog.VIEW_PREFIX)) {
            throw new RewindException("sandbox names beginning '" + dev.rewind.cli.db.DatabaseLog.VIEW_PREFIX + "' are Rewind's own "
                    + "(views the database's log is read on, dropped when the daemon starts); choose another name");
        }
        if (name.startsWith(SandboxCheck.NAME_PREFIX)) {
            throw new RewindException("sandbox names beginning '" + SandboxCheck.NAME_PREFIX + "' are rewind bisect's own "
                    + "(dropped when the daemon starts); choose another name");
        }
        long started = System.nanoTime();
        try (CapturedSet set = data.openSet(setName)) {
            long seq = new PointResolver(set, DataDir.bookmarkLookup(data.catalog())).point(at, "--at");
            SandboxRecord r = data.sandboxes().create(set, name, seq, at);
            double millis = (System.nanoTime() - started) / 1e6;
            List<String> exports = new ArrayList<>();
            for (BlockDevice d : set.devices()) {
                exports.add(setName + "/" + d.name() + "@" + Sandbox.EXPORT_MARK + name);
            }
            out.line("created sandbox %s of set %s at seq %d (%s) in %.0f ms; its writes stay in %s", name, setName, seq, at, millis, r.dir());
            List<String> uris = new ArrayList<>();
            for (String e : exports) {
                uris.add(data.daemon() == null ? e : data.daemon().nbdUri(e));
                out.line("  %s", uris.get(uris.size() - 1));
            }
            if (data.daemon() == null) {
                out.line("served as NBD exports while 'rewind serve' runs");
            }
            out.json(Output.map("set", setName, "name", name, "seq", seq, "point", at, "createdAt",
                    Times.format(Times.ofMicros(r.createdAtMicros())), "dir", r.dir(), "exports", exports, "uris", data.daemon() == null ? null : uris,
                    "millis", Math.round(millis)));
        }
    }
}
