package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.AttachedDatabase;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.coordinate.CoordinatedRestore;
import dev.rewind.dbadapters.coordinate.CoordinatedRestoreReport;
import dev.rewind.dbadapters.coordinate.Step;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.BookmarkRecord;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code rewind restore --coordinated}: runs {@link CoordinatedRestore} around the restore in
 * place that {@code rewind restore} does anyway, with the set's position sampler paused,
 * printing each step as it finishes and the summary ({@code steps} in {@code --json}); a
 * failed step makes the command fail with the report's one line (once, on stderr; under
 * {@code --json} the one error document carries the steps).
 */
final class CoordinatedRestoreRun {
    /** The restore in place, as {@code rewind restore} runs it. */
    @FunctionalInterface
    interface InPlace {
        RestoreResult restore() throws Exception;
    }

    private final DataDir data;
    private final CapturedSet set;
    private final long targetSeq;
    private final String targetFoundBy;
    private final Output out;

    CoordinatedRestoreRun(DataDir data, CapturedSet set, long targetSeq, String targetFoundBy, Output out) {
        this.data = data;
        this.set = set;
        this.targetSeq = targetSeq;
        this.targetFoundBy = targetFoundBy;
        this.out = out;
    }

    void run(Duration startTimeout, InPlace inPlace) throws Exception {
        DatabaseAttachment a = AttachedDatabase.of(data.catalog(), set.name());
        Optional<BookmarkRecord> nearest = data.catalog().listBookmarks(set.name()).stream()
                .filter(b -> b.consistent() && b.seq() <= targetSeq).max(Comparator.comparingLong(BookmarkRecord::seq));
        List<Map<String, Object>> steps = new ArrayList<>();
        CoordinatedRestoreReport report;
        out.line("coordinated restore of set %s to seq %d (%s database)", set.name(), targetSeq, a.engine());
        try (DatabaseAdapter adapter = AttachedDatabase.open(a);
             AutoCloseable paused = data.daemon() == null ? () -> { } : data.daemon().pauseSampling(set.name())) {
            report = CoordinatedRestore.run(a, adapter, () -> {
                try {
                    return inPlace.restore();
                } catch (IOException | RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(e.getMessage(), e);
                }
            }, targetSeq, nearest, step -> {
                out.line("  %-6s %8s  %s%s", step.ok() ? "ok" : "FAILED", took(step.took()), step.name(),
                        step.detail() == null || step.detail().isBlank() ? "" : ": " + step.detail());
                steps.add(stepJson(step));
            }, startTimeout);
        }
        RestoreResult r = report.result();
        if (r != null && r.changedAnything()) {
            out.line("restored set %s to seq %d: %s in %d range(s) rewritten as seqs %d..%d", set.name(), targetSeq,
                    Sizes.format(r.bytesWritten()), r.rangesWritten(), r.firstSeq(), r.lastSeq());
            out.line("undo with: rewind restore %s --to-seq %d --coordinated", set.name(), r.firstSeq() - 1);
        }
        boolean changed = r != null && r.changedAnything();
        Map<String, Object> json = Output.map("set", set.name(), "mode", "coordinated", "targetSeq", targetSeq,
                "targetFoundBy", targetFoundBy, "ok", report.ok(), "message", report.message(),
                "steps", steps, "firstSeq", changed ? r.firstSeq() : null, "lastSeq", changed ? r.lastSeq() : null,
                "bytesWritten", r == null ? 0 : r.bytesWritten(), "undoSeq", changed ? r.firstSeq() - 1 : null,
                "nearestConsistentBookmark", nearest.map(b -> Output.map("name", b.name(), "seq", b.seq())).orElse(null));
        if (!report.ok()) {
            throw new ReportedFailure(report.message(), json); // its line once, on stderr; under --json one document
        }
        out.line("%s", report.message());
        out.json(json);
    }

    static Map<String, Object> stepJson(Step step) {
        return Output.map("name", step.name(), "ok", step.ok(), "tookMillis", step.took().toMillis(), "detail", step.detail());
    }

    private static String took(Duration d) {
        long ms = d.toMillis();
        return ms < 10_000 ? ms + "ms" : String.format("%.1fs", ms / 1000.0);
    }
}
