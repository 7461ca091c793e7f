package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.scheduler.ScheduledJob;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.DatabaseRecords;
import dev.rewind.volumeset.catalog.PositionSample;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind db show}: the attachment as stored (where the password comes from, never the
 * password), whether the database answers now and its version, the newest sampled position,
 * how many samples there are, and when the next consistent bookmark is due.
 */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = {"Show a set's attached database: URL, user, where the password comes from, stop/start commands, validations, "
                + "mounts, whether it answers now (and its version), the newest sampled position and the next consistent bookmark."},
        footer = {"", "Examples:", "  rewind db show shop", "  rewind db show shop --json"})
final class DbShowCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Override
    void run(DataDir data, Output out) {
        data.volumes().findSet(setName);
        DatabaseAttachment a = AttachedDatabase.of(data.catalog(), setName);
        String version = null;
        String unreachable = null;
        try (DatabaseAdapter adapter = AttachedDatabase.open(a)) {
            version = adapter.checkConnection();
        } catch (RewindException e) {
            unreachable = e.getMessage();
        }
        DatabaseRecords db = data.catalog().databases();
        Optional<PositionSample> newest = db.lastSampleAtOrBefore(setName, Long.MAX_VALUE);
        int samples = db.samples(setName, Long.MIN_VALUE, Long.MAX_VALUE).size();
        String next = nextConsistentBookmark(data, a);

        out.line("set %s: %s database", setName, a.engine());
        out.line("  jdbc url          %s", a.jdbcUrl());
        out.line("  user              %s", a.user() == null ? "(none)" : a.user());
        out.line("  password          %s", passwordSource(a));
        out.line("  stop command      %s", a.stopCommand() == null ? "(none)" : a.stopCommand());
        out.line("  start command     %s", a.startCommand() == null ? "(none)" : a.startCommand());
        for (String v : a.validations()) {
            out.line("  validate          %s", v);
        }
        a.mounts().forEach((member, dir) -> out.line("  mount             %s=%s", member, dir));
        out.line("  attached at       %s", Times.format(Times.ofMicros(a.attachedAtMicros())));
        out.line("  reachable         %s", unreachable == null ? "yes: " + version : "no: " + unreachable);
        out.line("  sample every      %s (%d sample(s) stored)", Durations.format(a.sampleEvery()), samples);
        out.line("  newest sample     %s", newest.map(s -> "seq " + s.seq() + " at " + Times.format(Times.ofMicros(s.timeMicros()))
                + ": durable " + s.durablePosition() + ", bound " + s.boundPosition() + (s.gtid() == null ? "" : ", gtid " + s.gtid()))
                .orElse("(none yet: positions are sampled while rewind serve runs)"));
        out.line("  consistent every  %s", a.consistentEvery() == null ? "off" : Durations.format(a.consistentEvery()));
        out.line("  next consistent   %s", next);
        out.json(Output.map("set", setName, "engine", a.engine(), "jdbcUrl", a.jdbcUrl(), "user", a.user(),
                "passwordFile", a.passwordFile(), "passwordEnv", a.passwordEnv(), "stopCommand", a.stopCommand(),
                "startCommand", a.startCommand(), "validations", a.validations(), "mounts", a.mounts(),
                "attachedAt", Times.format(Times.ofMicros(a.attachedAtMicros())), "reachable", unreachable == null, "version", version,
                "unreachableReason", unreachable, "sampleEvery", Durations.format(a.sampleEvery()), "samples", samples,
                "newestSample", newest.map(DbShowCommand::sampleJson).orElse(null),
                "consistentEvery", a.consistentEvery() == null ? null : Durations.format(a.consistentEvery()),
                "nextConsistentBookmark", next));
    }

    static String passwordSource(DatabaseAttachment a) {
        if (a.passwordFile() != null) {
            return "from file " + a.passwordFile();
        }
        if (a.passwordEnv() != null) {
            return "from environment variable " + a.passwordEnv();
        }
        return "(none)";
    }

    static Map<String, Object> sampleJson(PositionSample s) {
        return Output.map("seq", s.seq(), "time", Times.format(Times.ofMicros(s.timeMicros())), "durablePosition", s.durablePosition(),
                "boundPosition", s.boundPosition(), "gtid", s.gtid());
    }

    /** The next fire time of the set's consistent-bookmark job, or why there is none. */
    private String nextConsistentBookmark(DataDir data, DatabaseAttachment a) {
        if (a.consistentEvery() == null) {
            return "never (attach with --consistent-every 15m to take them on a schedule)";
        }
        if (data.daemon() == null) {
            return "when rewind serve runs";
        }
        return data.daemon().schedule(Optional.of(setName)).stream().filter(j -> j.kind().equals("consistent-bookmark"))
                .map(ScheduledJob::nextFire).filter(t -> t != null).findFirst().map(Instant.class::cast).map(Times::format)
                .orElse("not scheduled");
    }
}
