package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.PointResolver;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.increments.deltamap.DeltaMap;
import dev.rewind.volumeset.ByteRangeSet;
import dev.rewind.volumeset.MalformedValueException;
import dev.rewind.volumeset.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind diff SET --from A --to B}: the byte ranges of each member that writes after A up
 * to B changed, from the journal inside partial transactions and from the merged delta maps for
 * whole ones (no data is read): what a backup tool asks before an incremental copy, and what a
 * DBA asks before a restore.
 */
@Command(name = "diff", mixinStandardHelpOptions = true,
        description = {"List the byte ranges of each member changed between two points of a set (no data is read).",
                "POINT: a seq, bookmark:NAME or time:ISO-8601 (the newest write at or before it). Both must be restorable points."},
        footer = {"", "Examples:", "  rewind diff shop --from bookmark:nightly", "  rewind diff shop --from 41234 --to time:2026-11-25T14:03:00Z",
                "  rewind diff shop --from bookmark:monday --to bookmark:tuesday --json"})
final class DiffCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Option(names = "--from", required = true, paramLabel = "POINT", description = "The earlier point.")
    String from;

    @Option(names = "--to", paramLabel = "POINT", description = "The later point (default: the newest write).")
    String to;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50",
            description = "Ranges listed per member in text (default ${DEFAULT-VALUE}; 0: all); --json lists all.")
    int limit;

    @Override
    void run(DataDir data, Output out) throws Exception {
        data.volumes().findSet(setName);
        if (limit < 0) {
            throw new MalformedValueException("--limit " + limit + " is negative; give 0 (all) or more");
        }
        try (CapturedSet set = data.openSet(setName)) {
            PointResolver points = new PointResolver(set, DataDir.bookmarkLookup(data.catalog()));
            long fromSeq = points.point(from, "--from");
            long toSeq = to == null ? set.lastSeq() : points.point(to, "--to");
            if (fromSeq > toSeq) {
                throw new MalformedValueException("--from " + from + " (seq " + fromSeq + ") is after --to " + (to == null ? "the newest write" : to)
                        + " (seq " + toSeq + "); give the earlier point as --from");
            }
            set.history().checkPlaceable(fromSeq);
            set.history().checkPlaceable(toSeq);
            DeltaMap changed = set.history().changedBetween(fromSeq, toSeq);
            List<Map<String, Object>> members = new ArrayList<>();
            out.line("set %s: changed after seq %d up to seq %d: %s in %d member(s)", setName, fromSeq, toSeq,
                    Sizes.format(changed.totalBytes()), set.record().members().size());
            for (int m = 0; m < changed.memberCount(); m++) {
                String member = set.record().members().get(m).name();
                ByteRangeSet ranges = changed.changed(m);
                List<Map<String, Object>> rows = new ArrayList<>();
                int listed = 0;
                int count = 0;
                out.line("  %s: %d range(s), %s", member, ranges.rangeCount(), Sizes.format(ranges.totalBytes()));
                for (ByteRangeSet.Range r : ranges) {
                    rows.add(Output.map("offset", r.startBytes(), "length", r.lengthBytes()));
                    count++;
                    if (limit == 0 || listed < limit) {
                        out.line("    %14d  +%d", r.startBytes(), r.lengthBytes());
                        listed++;
                    }
                }
                if (listed < count) {
                    out.line("    ... %d more (--limit 0 lists all, --json gives all)", count - listed);
                }
                members.add(Output.map("member", member, "ranges", rows, "bytes", ranges.totalBytes()));
            }
            out.json(Output.map("set", setName, "fromSeq", fromSeq, "toSeq", toSeq, "bytes", changed.totalBytes(), "members", members));
        }
    }
}
