package dev.rewind.cli;

import dev.rewind.increments.restore.RestorePlan;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code rewind restore --dry-run}: prints what a restore would do — the target, the members and
 * their changed ranges, the bytes, and (in place) the seq that would undo it — from a
 * {@link RestorePlan}, which reads no data and changes nothing.
 */
final class RestoreDryRun {
    /** Ranges listed per member in the human output; {@code --json} lists them all. */
    private static final int HUMAN_RANGES_PER_MEMBER = 20;

    private final String setName;
    private final long targetSeq;
    private final Instant targetTime;
    private final String when;
    private final String targetFoundBy;
    private final Output out;

    /** {@code targetFoundBy}: how the target seq was found (see {@code rewind restore}'s output). */
    RestoreDryRun(String setName, long targetSeq, Instant targetTime, String when, String targetFoundBy, Output out) {
        this.setName = setName;
        this.targetSeq = targetSeq;
        this.targetTime = targetTime;
        this.when = when;
        this.targetFoundBy = targetFoundBy;
        this.out = out;
    }

    /**
     * Prints the plan of a restore in place, or of a clone into {@code cloneDir} when it is not
     * null; {@code coordinatedSteps}, when not empty, are what a coordinated restore would run.
     */
    void print(RestorePlan plan, Path cloneDir, List<String> coordinatedSteps) {
        List<String> files = new ArrayList<>();
        if (cloneDir != null) {
            for (RestorePlan.MemberChanges m : plan.members()) {
                Path f = cloneDir.resolve(m.member() + ".img");
                if (Files.exists(f)) {
                    throw new RewindException(f + " already exists; clone into an empty directory");
                }
                files.add(f.toString());
            }
        }
        out.line("dry run, nothing changed:");
        if (plan.supersedes() != null && cloneDir == null) {
            out.line("  this restore would supersede the interrupted restore to seq %d (started %s)", plan.supersedes().targetSeq(),
                    plan.supersedes().startedAt());
        }
        if (cloneDir == null) {
            if (plan.changesAnything()) {
                out.line("restore set %s in place to seq %d (%s): would rewrite %s in %d range(s), journaled as new seqs after %d",
                        setName, targetSeq, when, Sizes.format(plan.totalBytes()), plan.rangeCount(), plan.headSeq());
            } else {
                out.line("set %s is already at seq %d: a restore would change nothing", setName, targetSeq);
            }
        } else {
            out.line("clone set %s as of seq %d (%s) into %s: would copy every member as it is now (%s), then put back %s in %d range(s)",
                    setName, targetSeq, when, cloneDir, Sizes.format(plan.members().stream().mapToLong(RestorePlan.MemberChanges::sizeBytes)
                            .sum()), Sizes.format(plan.totalBytes()), plan.rangeCount());
        }
        List<Map<String, Object>> members = new ArrayList<>();
        for (int i = 0; i < plan.members().size(); i++) {
            RestorePlan.MemberChanges m = plan.members().get(i);
            out.line("  %-12s %10s in %d range(s)%s", m.member(), Sizes.format(m.bytes()), m.ranges().size(),
                    cloneDir == null ? "" : " -> " + files.get(i));
            int shown = 0;
            for (RestorePlan.Range r : m.ranges()) {
                if (shown++ == HUMAN_RANGES_PER_MEMBER) {
                    out.line("    ... %d more (--json lists them all)", m.ranges().size() - HUMAN_RANGES_PER_MEMBER);
                    break;
                }
                out.line("    offset %14d  %10d bytes", r.offsetBytes(), r.lengthBytes());
            }
            members.add(Output.map("member", m.member(), "sizeBytes", m.sizeBytes(), "bytes", m.bytes(), "file",
                    cloneDir == null ? null : files.get(i), "ranges",
                    m.ranges().stream().map(r -> Output.map("offsetBytes", r.offsetBytes(), "lengthBytes", r.lengthBytes())).toList()));
        }
        if (!coordinatedSteps.isEmpty()) {
            out.line("coordinated, it would run:");
            for (int i = 0; i < coordinatedSteps.size(); i++) {
                out.line("  %d. %s", i + 1, coordinatedSteps.get(i));
            }
        }
        if (cloneDir == null && plan.changesAnything()) {
            out.line("undo afterwards with: rewind restore %s --to-seq %d", setName, plan.undoSeq());
        }
        out.json(Output.map("set", setName, "mode", cloneDir == null ? "in-place" : "clone", "dryRun", true,
                "targetSeq", targetSeq, "targetTime", targetTime == null ? null : targetTime.toString(), "targetFoundBy", targetFoundBy,
                "headSeq", plan.headSeq(),
                "bytes", plan.totalBytes(), "ranges", plan.rangeCount(), "members", members,
                "undoSeq", cloneDir == null && plan.changesAnything() ? plan.undoSeq() : null,
                "supersedesRestoreTo", cloneDir == null && plan.supersedes() != null ? plan.supersedes().targetSeq() : null,
                "coordinatedSteps", coordinatedSteps.isEmpty() ? null : coordinatedSteps));
    }
}
