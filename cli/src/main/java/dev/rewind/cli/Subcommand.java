package dev.rewind.cli;

import java.io.PrintWriter;
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
            output = new Output(spec.commandLine().getOut(), System.err, root().json);
        }
        return output;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    @Override
    public final Integer call() throws Exception {
        try (DataDir data = new DataDir(root().dataDir())) {
            run(data, output());
        }
        return 0;
    }

    abstract void run(DataDir data, Output out) throws Exception;
}
