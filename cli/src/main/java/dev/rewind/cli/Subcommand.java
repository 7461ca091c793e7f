package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every subcommand shares: the global options, the data dir and the output. */
abstract class Subcommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    private Output output;

    RewindCommand root() {
        return (RewindCommand) spec.root().userObject();
    }

    Output output() {
        if (output == null) {
            DaemonRequest request = DaemonRequest.current();
            boolean terminal = request != null ? request.terminal() : System.console() != null;
            output = new Output(spec.commandLine().getOut(), spec.commandLine().getErr(), root().json, terminal);
        }
        return output;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** The value {@code text} of the duration option {@code option}; a malformed one is bad usage naming both. */
    java.time.Duration durationOption(String option, String text) {
        try {
            return dev.rewind.volumeset.Durations.parse(text);
        } catch (dev.rewind.volumeset.RewindException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), option + " '" + text + "': " + e.getMessage());
        }
    }

    /** Whether a running daemon should run this command (it holds the sets and the catalog). */
    boolean runsInDaemon() {
        return true;
    }

    @Override
    public final Integer call() throws Exception {
        DaemonRequest request = DaemonRequest.current();
        if (request != null) {
            if (!request.dataDir().equals(request.workingDir().resolve(root().dataDir()).toAbsolutePath().normalize())) {
                throw new dev.rewind.volumeset.RewindException("this rewind serve runs for data dir " + request.dataDir()
                        + ", not " + root().dataDir());
            }
            try (DataDir data = new DataDir(request.dataDir(), request.workingDir(), request.daemon(), request.catalog(), root().clock)) {
                run(data, output());
            }
            return 0;
        }
        Path dataDir = root().dataDir().toAbsolutePath().normalize();
        if (runsInDaemon()) {
            var daemon = dev.rewind.cli.daemon.ControlClient.find(dataDir);
            if (daemon.isPresent()) {
                return daemon.get().forward(root().originalArgs, out(), spec.commandLine().getErr());
            }
        }
        try (DataDir data = new DataDir(dataDir, root().clock)) {
            run(data, output());
        }
        return 0;
    }

    abstract void run(DataDir data, Output out) throws Exception;
}
