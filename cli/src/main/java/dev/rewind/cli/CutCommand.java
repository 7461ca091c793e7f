package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.increments.transaction.Transaction;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code rewind cut SET}: cuts the set's open transaction now, whatever its rules say. */
@Command(name = "cut", mixinStandardHelpOptions = true,
        description = {"Cut the set's open transaction now.",
                "Its forward and backward increments are stored and the replica moves to its last write. With rewind serve "
                        + "running, the live set is cut."},
        footer = {"", "Examples:", "  rewind cut shop", "  rewind cut shop --json"})
final class CutCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "SET", description = "Set name.")
    String setName;

    @Override
    void run(DataDir data, Output out) throws Exception {
        data.volumes().findSet(setName);
        try (CapturedSet set = data.openSet(setName)) {
            Optional<Transaction> cut = set.cut(CutReason.DEMAND);
            if (cut.isEmpty()) {
                out.line("set %s: nothing written since the last cut", setName);
                out.json(Output.map("set", setName, "transaction", null));
                return;
            }
            out.line("set %s: %s", setName, TransactionsView.summary(cut.get()));
            out.json(Output.map("set", setName, "transaction", TransactionsView.json(cut.get())));
        }
    }
}
