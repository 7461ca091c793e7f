package dev.rewind.cli;

import dev.rewind.cli.bench.CaptureBenchmark;
import dev.rewind.cli.datadir.DataDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, description = {"Measure the capture path and in-place rewind against plain file I/O on this machine.",
        "Needs about 4 GiB of free disk in --dir (1 GiB with --quick); removes its files afterwards."},
        footer = {"", "Examples:", "  rewind bench", "  rewind bench --quick --json"})
final class BenchCommand extends Subcommand {
    @Option(names = "--dir", paramLabel = "DIR", description = "Where to put the benchmark's files (default: a new temp dir).")
    Path dir;

    @Option(names = "--quick", description = "Small sizes and one round (a smoke run, not for figures).")
    boolean quick;

    @Option(names = "--keep", description = "Keep the benchmark's files.")
    boolean keep;

    @Override
    boolean runsInDaemon() {
        return false;
    }

    @Override
    void run(DataDir data, Output out) throws Exception {
        Path work = dir != null ? dir.resolve("rewind-bench") : Files.createTempDirectory("rewind-bench-");
        if (Files.exists(work) && dir != null) {
            throw new dev.rewind.volumeset.RewindException(work + " already exists; remove it or give another --dir");
        }
        CaptureBenchmark.Config config = quick ? CaptureBenchmark.Config.quick() : CaptureBenchmark.Config.full();
        List<CaptureBenchmark.Figure> figures;
        try {
            figures = new CaptureBenchmark(config, work, out.isJson() ? new java.io.PrintStream(java.io.OutputStream.nullOutputStream()) : System.err).run();
        } finally {
            if (!keep) {
                DataDir.deleteTree(work);
            }
        }
        out.line("%-40s %12s %12s %8s %10s", "benchmark", "rewind", "plain", "ratio", "target");
        for (CaptureBenchmark.Figure f : figures) {
            out.line("%-40s %9.1f %-2s %9.1f %-2s %7.2fx %10s %s", f.name(), f.rewind(), f.unit(), f.peer(), f.unit(), f.ratio(), f.target(),
                    f.met() ? "met" : "MISSED");
        }
        out.json(java.util.Map.of("config", config, "figures", figures));
    }
}
