package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.cli.db.SandboxDatabases;
import dev.rewind.cli.db.StartedSandbox;
import dev.rewind.dbadapters.sandbox.SandboxJdbcUrl;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.time.Duration;
import java.util.OptionalInt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rewind sandbox start}: in the daemon, mounts the sandbox's exports and starts a private
 * copy of the set's attached database there on its own loopback port, printing each step and
 * how to connect ({@link dev.rewind.cli.db.SandboxDatabases} does the work).
 */
@Command(name = "start", mixinStandardHelpOptions = true,
        description = {"Start the set's attached database (PostgreSQL or MariaDB) on a sandbox: its exports are mounted, what points "
                + "back at production is fixed inside the sandbox, and a private server runs on 127.0.0.1 on its own port.",
                "Production and its journal are never written. Needs rewind serve running, as root."},
        footer = {"", "Examples:", "  rewind sandbox start shop before-drop",
                "  rewind sandbox start shop before-drop --port 55432 --timeout 20m --json"})
final class SandboxStartCommand extends Subcommand {
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    @Parameters(index = "0", paramLabel = "SET")
    String setName;

    @Parameters(index = "1", paramLabel = "NAME")
    String sandboxName;

    @Option(names = "--port", paramLabel = "P", description = "The loopback port of the sandbox's database (default: a free one).")
    Integer port;

    @Option(names = "--timeout", paramLabel = "DURATION", description = "How long to wait for the database to accept connections (default 10m: crash recovery).")
    String timeout;

    @Override
    void run(DataDir data, Output out) throws Exception {
        SandboxDatabases databases = SandboxDatabases.of(data, "sandbox start");
        Duration wait = timeout == null ? DEFAULT_TIMEOUT : durationOption("--timeout", timeout);
        StartedSandbox s = databases.start(data, setName, sandboxName,
                port == null ? OptionalInt.empty() : OptionalInt.of(port), wait,
                step -> out.line("%-22s %6s  %s", step.name(), Durations.format(step.took()), step.detail()));
        DatabaseAttachment a = AttachedDatabase.of(data.catalog(), setName);
        String connect = connectCommand(s, a);
        out.line("%s database of sandbox %s (set %s) accepts connections on 127.0.0.1:%d (pid %d)", s.engine(), s.sandboxName(),
                s.setName(), s.port(), s.pid());
        out.line("  connect: %s", connect);
        out.line("  jdbc:    %s", s.jdbcUrl());
        out.line("  log:     %s", s.logFile());
        out.line("  stop:    rewind sandbox stop %s %s", s.setName(), s.sandboxName());
        out.json(Output.map("set", s.setName(), "sandbox", s.sandboxName(), "engine", s.engine(), "port", s.port(), "pid", s.pid(),
                "jdbcUrl", s.jdbcUrl(), "connect", connect, "workDir", s.workDir().toString(), "log", s.logFile().toString()));
    }

    static String connectCommand(StartedSandbox s, DatabaseAttachment a) {
        String db = SandboxJdbcUrl.databaseName(s.jdbcUrl());
        String user = a.user() == null ? "" : a.user();
        if (s.engine().equals("postgresql")) {
            return "psql \"host=127.0.0.1 port=" + s.port() + (user.isEmpty() ? "" : " user=" + user) + (db.isEmpty() ? "" : " dbname=" + db) + "\"";
        }
        return "mariadb -h 127.0.0.1 -P " + s.port() + (user.isEmpty() ? "" : " -u " + user + " -p") + (db.isEmpty() ? "" : " " + db);
    }
}
