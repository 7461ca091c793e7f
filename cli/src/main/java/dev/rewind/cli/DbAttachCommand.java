package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.dbadapters.api.Credentials;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.MemberRecord;
import dev.rewind.volumeset.catalog.SetRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind db attach}: checks everything it is given (the URL names a known engine and
 * carries no password, the password file is the owner's only, the members and mount dirs
 * exist, the periods are sane, the database answers) before storing anything, then records
 * the attachment, replacing an earlier one but keeping its samples unless --forget-history.
 * A running daemon starts sampling at once.
 */
@Command(name = "attach", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Attach the database a set holds. Its password is read from a file (mode 600) or an environment variable, "
                + "never from the command line or the URL. The connection is checked unless --no-check. Attaching again replaces "
                + "the attachment and keeps the positions sampled so far; --forget-history drops them."},
        footer = {"", "Examples:",
                "  rewind db attach shop --jdbc jdbc:postgresql://127.0.0.1:5432/shop \\",
                "      --user rewind --password-file /etc/rewind/shop.pw",
                "  rewind db attach shop --jdbc jdbc:postgresql://127.0.0.1:5432/shop \\",
                "      --user rewind --password-env SHOP_PW \\",
                "      --stop-cmd 'pg_ctl -D /srv/pg/data stop' \\",
                "      --start-cmd 'pg_ctl -D /srv/pg/data start' \\",
                "      --validate 'select count(*) > 0 from orders' \\",
                "      --mount data=/srv/pg/data --mount wal=/srv/pg/wal",
                "  rewind db attach bank --jdbc jdbc:mariadb://127.0.0.1:3306/bank \\",
                "      --user rewind --password-file bank.pw --consistent-every 15m",
                "  rewind db attach app --jdbc jdbc:h2:/srv/app/db --no-check"})
final class DbAttachCommand extends Subcommand {
    static final Duration DEFAULT_SAMPLE_EVERY = Duration.ofSeconds(1);
    private static final Duration MIN_CONSISTENT_EVERY = Duration.ofSeconds(1);

    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Option(names = "--jdbc", required = true, paramLabel = "URL", description = "The database's JDBC URL (jdbc:postgresql:, jdbc:mariadb:, jdbc:mysql:, jdbc:h2:), without a password.")
    String jdbcUrl;

    @Option(names = "--user", paramLabel = "U", description = "The database user.")
    String user;

    @Option(names = "--password-file", paramLabel = "FILE", description = "A file (mode 600) whose first line is the password.")
    Path passwordFile;

    @Option(names = "--password-env", paramLabel = "VAR", description = "An environment variable holding the password, read where rewind runs (for scheduled work: where rewind serve runs).")
    String passwordEnv;

    @Option(names = "--stop-cmd", paramLabel = "CMD", description = "A shell command that stops the database and releases its volumes (for --coordinated restores).")
    String stopCommand;

    @Option(names = "--start-cmd", paramLabel = "CMD", description = "A shell command that mounts the volumes and starts the database.")
    String startCommand;

    @Option(names = "--validate", paramLabel = "SQL", description = "A query run after a coordinated restore; it passes unless it fails or returns false, 0 or null. Repeat for more.")
    List<String> validations = new ArrayList<>();

    @Option(names = "--mount", paramLabel = "MEMBER=DIR", description = "Where a member's file system is mounted (lets restores find the exact write of a log position). Repeat for each.")
    List<String> mounts = new ArrayList<>();

    @Option(names = "--consistent-every", paramLabel = "DURATION|off", description = "Take a consistent bookmark this often while rewind serve runs (e.g. 15m; default off).")
    String consistentEvery;

    @Option(names = "--sample-every", paramLabel = "DURATION", description = "Sample the database's position against the seq this often while rewind serve runs (default 1s).")
    String sampleEvery;

    @Option(names = "--no-check", description = "Store the attachment without connecting (the database may be down now).")
    boolean noCheck;

    @Option(names = "--forget-history", description = "Attaching again: drop the positions sampled so far (they are kept otherwise). "
            + "Needed when the database attached now is another one than before.")
    boolean forgetHistory;

    @Override
    void run(DataDir data, Output out) throws Exception {
        SetRecord set = data.volumes().findSet(setName);
        Engine engine = Engine.ofJdbcUrl(jdbcUrl);
        if (jdbcUrl.toLowerCase(Locale.ROOT).contains("password=")) {
            throw new RewindException("the JDBC URL holds a password; take it out and give --password-file FILE (mode 600) or --password-env VAR");
        }
        if (passwordFile != null && passwordEnv != null) {
            throw new ParameterException(spec.commandLine(), "give --password-file or --password-env, not both");
        }
        Path pwFile = passwordFile == null ? null : data.resolve(passwordFile);
        if (pwFile != null) {
            new Credentials(user, pwFile, null).password(); // exists, readable, and the owner's only
        }
        Map<String, String> mountDirs = mountDirs(data, set);
        Duration consistent = consistentEvery == null || isOff(consistentEvery) ? null : durationOption("--consistent-every", consistentEvery);
        if (consistent != null && consistent.compareTo(MIN_CONSISTENT_EVERY) < 0) {
            throw new ParameterException(spec.commandLine(), "--consistent-every '" + consistentEvery + "' is too short; give 1s or more, or off");
        }
        Duration sample = sampleEvery == null ? DEFAULT_SAMPLE_EVERY : durationOption("--sample-every", sampleEvery);
        DatabaseAttachment a = new DatabaseAttachment(setName, engine.label(), jdbcUrl.strip(), user, pwFile == null ? null : pwFile.toString(),
                passwordEnv, blankToNull(stopCommand), blankToNull(startCommand), validations, mountDirs, consistent, sample,
                Times.micros(data.clock().instant()));
        String version = null;
        Map<String, String> serverSettings = Map.of();
        String noSettings = null;
        if (!noCheck) {
            try (DatabaseAdapter adapter = AttachedDatabase.open(a)) {
                version = adapter.checkConnection();
                if (engine != Engine.H2) {
                    try {
                        serverSettings = adapter.serverSettings();
                    } catch (RewindException e) {
                        noSettings = e.getMessage();
                    }
                }
            }
        }
        var earlier = data.catalog().databases().attachment(setName);
        int samples = data.catalog().databases().sampleCount(setName);
        if (!forgetHistory && samples > 0 && earlier.isPresent() && !earlier.get().engine().equals(a.engine())) {
            throw new RewindException("set " + setName + " keeps " + samples + " positions sampled from its " + earlier.get().engine()
                    + " database, which mean nothing to " + engine.label() + "; give --forget-history to drop them");
        }
        data.catalog().databases().attach(a);
        int forgotten = forgetHistory ? data.catalog().databases().forgetSamples(setName) : 0;
        if (!serverSettings.isEmpty()) {
            data.catalog().databases().recordServerSettings(setName, serverSettings);
        }
        if (data.daemon() != null) {
            data.daemon().databaseChanged(setName);
        }
        out.line("attached %s database %s to set %s%s", engine.label(), a.jdbcUrl(), setName,
                version == null ? " (connection not checked)" : " (" + version + ")");
        if (forgetHistory) {
            out.line("forgot %d sampled position(s): earlier positions of the database can no longer be restored to until sampled again",
                    forgotten);
        } else if (samples > 0) {
            out.line("kept %d sampled position(s) of the earlier attachment (--forget-history drops them)", samples);
        }
        out.line("samples its position every %s%s; consistent bookmarks: %s", Durations.format(sample),
                data.daemon() == null ? " while rewind serve runs" : "", consistent == null ? "off" : "every " + Durations.format(consistent));
        if (noSettings != null) {
            out.line("server settings not recorded (rewind sandbox start will need the database running): %s", noSettings);
        }
        if (a.stopCommand() == null || a.startCommand() == null) {
            out.line("no --stop-cmd/--start-cmd: restore --coordinated is refused until both are given");
        }
        out.json(Output.map("set", setName, "engine", engine.label(), "jdbcUrl", a.jdbcUrl(), "checked", !noCheck, "version", version,
                "sampleEvery", Durations.format(sample), "consistentEvery", consistent == null ? null : Durations.format(consistent),
                "serverSettingsRecorded", !serverSettings.isEmpty(), "samplesKept", forgetHistory ? 0 : samples,
                "samplesForgotten", forgotten));
    }

    /** The --mount options as member name to absolute directory; each member must be the set's and each directory must exist. */
    private Map<String, String> mountDirs(DataDir data, SetRecord set) {
        Map<String, String> dirs = new LinkedHashMap<>();
        List<String> names = set.members().stream().map(MemberRecord::name).toList();
        for (String m : mounts) {
            int eq = m.indexOf('=');
            if (eq <= 0 || eq == m.length() - 1) {
                throw new ParameterException(spec.commandLine(), "--mount '" + m + "' is not MEMBER=DIR, e.g. wal=/srv/pg/wal");
            }
            String member = m.substring(0, eq);
            if (!names.contains(member)) {
                throw new RewindException("set " + setName + " has no member named " + member + "; its members: " + String.join(", ", names));
            }
            Path dir = data.resolve(Path.of(m.substring(eq + 1)));
            if (!Files.isDirectory(dir)) {
                throw new RewindException("mount dir " + dir + " of member " + member + " is not a directory; mount the member's file system there first");
            }
            if (dirs.put(member, dir.toString()) != null) {
                throw new ParameterException(spec.commandLine(), "--mount gives member " + member + " twice");
            }
        }
        return dirs;
    }


    private static boolean isOff(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        return t.equals("off") || t.equals("0");
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
