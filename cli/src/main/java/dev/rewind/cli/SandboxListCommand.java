package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.Times;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code rewind sandbox list}: the sandboxes, with what they hold. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = {"List sandboxes (of one set, or all): point, bytes written, database, clients.",
                "The database column shows the port of a database started on the sandbox; clients, the NBD connections to its "
                        + "exports while rewind serve runs."},
        footer = {"", "Examples:", "  rewind sandbox list", "  rewind sandbox list shop --json"})
final class SandboxListCommand extends Subcommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SET")
    String setName;

    @Override
    void run(DataDir data, Output out) throws Exception {
        if (setName != null) {
            data.volumes().findSet(setName);
        }
        List<SandboxRecord> sandboxes = data.sandboxes().list(setName);
        if (sandboxes.isEmpty()) {
            out.line("no sandboxes%s; create one with: rewind sandbox create %s NAME --at POINT", setName == null ? "" : " of set " + setName,
                    setName == null ? "SET" : setName);
        } else {
            out.line("%-16s %-20s %10s  %-20s %-20s %10s  %-9s %s", "SET", "NAME", "SEQ", "POINT", "CREATED", "OVERLAY", "DATABASE", "CLIENTS");
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (SandboxRecord r : sandboxes) {
            long overlay = data.sandboxes().overlayBytes(r);
            Integer clients = data.daemon() == null ? null : data.daemon().sandboxConnectionCount(r.setName(), r.name());
            String created = Times.format(Times.ofMicros(r.createdAtMicros()));
            out.line("%-16s %-20s %10d  %-20s %-20s %10s  %-9s %s", r.setName(), r.name(), r.seq(), r.point(), created.substring(0, 19),
                    Sizes.format(overlay), r.databasePort() == null ? "-" : "port " + r.databasePort(), clients == null ? "-" : clients);
            rows.add(Output.map("set", r.setName(), "name", r.name(), "seq", r.seq(), "point", r.point(), "createdAt", created,
                    "overlayBytes", overlay, "dir", r.dir(), "databasePort", r.databasePort(), "databasePid", r.databasePid(),
                    "clients", clients));
        }
        out.json(Output.map("sandboxes", rows));
    }
}
