package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.scheduler.ScheduledJob;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.catalog.SetRecord;
import dev.rewind.volumeset.catalog.SetSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind schedule}: the scheduler's jobs (period cuts, checkpoints, consistent bookmarks) with their period and
 * next fire time, as the running daemon's job store holds them. Without a daemon, nothing
 * fires: the command says so and lists the period cuts and consistent bookmarks the catalog asks for.
 */
@Command(name = "schedule", mixinStandardHelpOptions = true,
        description = {"Show the scheduled jobs (period cuts, checkpoints, consistent bookmarks): set, job, period, next and previous fire time.",
                "Jobs run inside rewind serve and are kept in the catalog, so they survive a restart."},
        footer = {"", "Examples:", "  rewind schedule", "  rewind schedule shop --json"})
final class ScheduleCommand extends Subcommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SET", description = "One set (default: all).")
    String setName;

    @Override
    void run(DataDir data, Output out) {
        if (setName != null) {
            data.volumes().findSet(setName);
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        if (data.daemon() == null) {
            out.line("rewind serve is not running: no job fires until it starts. Period cuts and consistent bookmarks the sets ask for:");
            for (SetRecord set : setName == null ? data.catalog().listSets() : List.of(data.volumes().findSet(setName))) {
                SetSettings s = data.catalog().settings(set.name());
                if (s.cutEvery() != null) {
                    out.line("  %-16s cut every %s", set.name(), Durations.format(s.cutEvery()));
                    rows.add(Output.map("set", set.name(), "job", "cut", "every", Durations.format(s.cutEvery()), "nextFire", null,
                            "previousFire", null));
                }
                var db = data.catalog().databases().attachment(set.name());
                if (db.isPresent() && db.get().consistentEvery() != null) {
                    out.line("  %-16s consistent bookmark every %s", set.name(), Durations.format(db.get().consistentEvery()));
                    rows.add(Output.map("set", set.name(), "job", "consistent-bookmark", "every", Durations.format(db.get().consistentEvery()),
                            "nextFire", null, "previousFire", null));
                }
            }
            out.json(Output.map("running", false, "jobs", rows));
            return;
        }
        List<ScheduledJob> jobs = data.daemon().schedule(Optional.ofNullable(setName));
        out.line("%-16s  %-19s  %-8s  %-27s  %-27s", "SET", "JOB", "EVERY", "NEXT", "PREVIOUS");
        for (ScheduledJob j : jobs) {
            String next = j.nextFire() == null ? "-" : Output.humanTime(j.nextFire());
            String previous = j.previousFire() == null ? "-" : Output.humanTime(j.previousFire());
            out.line("%-16s  %-19s  %-8s  %-27s  %-27s", j.set(), j.kind(), Durations.format(j.every()), next, previous);
            rows.add(Output.map("set", j.set(), "job", j.kind(), "every", Durations.format(j.every()),
                    "nextFire", j.nextFire() == null ? null : Output.humanTime(j.nextFire()),
                    "previousFire", j.previousFire() == null ? null : Output.humanTime(j.previousFire())));
        }
        if (jobs.isEmpty()) {
            out.line("(no jobs)");
        }
        out.json(Output.map("running", true, "jobs", rows));
    }
}
