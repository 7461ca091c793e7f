package dev.rewind.dbadapters.locate;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Turns a position of the database's log into a seq of the set: {@link #through} (restore
 * including the record at the position, {@code --to-lsn}) and {@link #before} (restore to
 * the write just before the one that put it on disk, {@code --before-lsn}).
 *
 * <p>Exact path: the adapter says which file and offset hold the record and what bytes it
 * starts with ({@link DatabaseAdapter#locate}); the attachment's mounts say which member's
 * file system holds the file; FIEMAP ({@link FileExtents}) gives the byte offset on that
 * member; {@link WriteLocator} finds the first write that put those bytes there, searching
 * only between the samples that bracket the position. For
 * {@code through} of a file that grows by appending (a binlog), the target is the file
 * system's commit after that write ({@link FileSystemCommits}), since before it a crash image
 * shows the file without the new bytes. Without an exact location, samples place it only
 * when two at consecutive seqs bracket it (the log not yet at the position at the first,
 * durable past it at the second: a durable position, PostgreSQL's flush LSN or the binlog's
 * end, is where the next record starts, so one equal to the position has not written it). Anything else is refused with the nearest known
 * positions before and after it, never moved to another seq; so is a position older than
 * the oldest kept sample, since no kept point has the log before it. Only samples taken on
 * the set's current {@link Lineage} count: at a seq still in its history, on the same
 * stretch of it.
 */
public final class LogTargets {
    private final CapturedSet set;
    private final Catalog catalog;
    private final Map<String, String> mounts;
    private final DatabaseAdapter adapter;

    public LogTargets(CapturedSet set, Catalog catalog, DatabaseAttachment a, DatabaseAdapter adapter) {
        this(set, catalog, a.mounts(), adapter);
    }

    /**
     * With {@code mounts} (member name to dir) saying where the files {@code adapter} locates
     * are: the attachment's, or where the adapter reads its log files now (a view of the set).
     */
    public LogTargets(CapturedSet set, Catalog catalog, Map<String, String> mounts, DatabaseAdapter adapter) {
        this.set = set;
        this.catalog = catalog;
        this.mounts = Map.copyOf(mounts);
        this.adapter = adapter;
    }

    /** The seq that holds the log through the record at {@code p}. */
    public PositionTarget through(DatabasePosition p) throws IOException {
        return resolve(p, true);
    }

    /** The seq just before the write that put the record at {@code p} on disk. */
    public PositionTarget before(DatabasePosition p) throws IOException {
        Optional<DatabasePosition> lastBefore = adapter.loggedAfterItsEffects(p);
        if (lastBefore.isPresent()) {
            PositionTarget t = resolve(lastBefore.get(), true);
            return new PositionTarget(t.seq(), t.exact(), "the statement at " + p + " was logged after it took effect, so the target "
                    + "is the last event before it, " + lastBefore.get() + ": " + t.how());
        }
        return resolve(p, false);
    }

    private PositionTarget resolve(DatabasePosition p, boolean through) throws IOException {
        long head = set.lastSeq();
        Lineage lineage = Lineage.of(catalog.listRestores(set.name()), head);
        List<PositionSample> samples = samplesIn(lineage, Math.max(set.oldestSeq(), 0), head);
        if (samples.isEmpty()) {
            throw new RewindException("no positions of the database on set " + set.name() + " were sampled yet (the daemon samples them "
                    + "while it runs: rewind serve); restore by --to-bookmark, --to-time or --to-seq");
        }
        Optional<LogLocation> where = adapter.locate(p); // first: it refuses a position that starts no record
        PositionSample oldest = samples.get(0);
        PositionSample newest = newestKnown(samples);
        if (p.order() > newest.boundOrder()) {
            throw outside(p, oldest, newest);
        }
        Optional<PositionSample> boundBefore = lastBoundBefore(samples, p.order());
        Optional<PositionSample> durableFrom = firstDurableFrom(samples, p.order());
        if (boundBefore.isEmpty()) {
            // no kept point has the log before p: the first write of its bytes in what is kept may be a rewrite of them
            throw new RewindException(positionWord() + " " + p + " is older than the oldest kept sample (" + oldest.boundPosition()
                    + " at seq " + oldest.seq() + "), so it cannot be placed exactly; nothing before it is kept"
                    + durableFrom.map(s -> "; the nearest known position after it is " + s.durablePosition() + " at seq " + s.seq()
                            + " (rewind restore " + set.name() + " --to-seq " + s.seq() + ")").orElse(""));
        }
        long fromSeq = boundBefore.get().seq() + 1;
        long toSeq = durableFrom.map(PositionSample::seq).orElse(head);

        String notExact;
        if (where.isEmpty()) {
            notExact = "the database cannot tell where " + p + " lives now (its log file was removed or recycled)";
        } else {
            try {
                Exact exact = exactSeq(where.get(), fromSeq, toSeq, lineage);
                if (exact.seq > 0) {
                    String found = "the write that put " + p + " on disk is seq " + exact.seq + " (member " + exact.member + ", byte "
                            + exact.memberOffset + ")";
                    if (!through) {
                        return new PositionTarget(exact.seq - 1, true, found + "; restoring to seq " + (exact.seq - 1));
                    }
                    if (!where.get().growsByAppending()) {
                        return new PositionTarget(exact.seq, true, found);
                    }
                    // appended bytes belong to the file once the file system commits its new size
                    OptionalLong commit = FileSystemCommits.firstCommitAfter(set, set.memberIndex(exact.member), exact.seq, head, lineage);
                    if (commit.isPresent()) {
                        return new PositionTarget(commit.getAsLong(), true, found + "; the file system committed it (the file's new "
                                + "size) at seq " + commit.getAsLong());
                    }
                    notExact = found + ", but no file system commit of it follows yet";
                } else {
                    notExact = exact.whyNot;
                }
            } catch (RewindException e) {
                notExact = e.getMessage();
            }
        }
        PositionSample before = boundBefore.get();
        if (durableFrom.isPresent() && lineage.contains(before.seq() + 1) && durableFrom.get().seq() == before.seq() + 1) {
            // at one seq the record was not written, at the next it was durable: that next write put it on disk
            long writeSeq = durableFrom.get().seq();
            String how = "sampled: no exact location (" + notExact + "), but the samples at seqs " + before.seq() + " and " + writeSeq
                    + " bracket " + p + " to the write at seq " + writeSeq;
            return new PositionTarget(through ? writeSeq : before.seq(), true, how);
        }
        throw new RewindException(positionWord() + " " + p + " cannot be placed exactly (" + notExact + "); the nearest known positions: "
                + "before it " + before.boundPosition() + " at seq " + before.seq() + ", after it "
                + durableFrom.map(s -> s.durablePosition() + " at seq " + s.seq()).orElse("none sampled yet (newest seq " + head + ")")
                + "; restore to one of them with --to-seq");
    }

    private record Exact(long seq, String member, long memberOffset, String whyNot) {
    }

    private Exact exactSeq(LogLocation where, long fromSeq, long toSeq, Lineage lineage) throws IOException {
        Path file = where.file().toAbsolutePath().normalize();
        String member = null;
        Path mountDir = null;
        for (Map.Entry<String, String> m : mounts.entrySet()) {
            Path dir = Path.of(m.getValue()).toAbsolutePath().normalize();
            if (file.startsWith(dir) && (mountDir == null || dir.getNameCount() > mountDir.getNameCount())) {
                member = m.getKey();
                mountDir = dir;
            }
        }
        if (member == null) {
            return new Exact(0, null, 0, "no member's mount holds " + file + "; give the mounts with rewind db attach");
        }
        long memberOffset = FileExtents.of(file).physicalOffset(where.fileOffsetBytes(), where.expected().length);
        WriteLocator.Match m = WriteLocator.firstWriteOf(set, set.memberIndex(member), memberOffset, where.expected(), fromSeq, toSeq,
                lineage);
        if (m.seq().isPresent()) {
            return new Exact(m.seq().getAsLong(), member, memberOffset, null);
        }
        return new Exact(0, member, memberOffset, m.whyNot());
    }

    private List<PositionSample> samplesIn(Lineage lineage, long fromSeq, long toSeq) {
        List<PositionSample> out = new ArrayList<>();
        for (Lineage.SeqRange r : lineage.ranges()) {
            long from = Math.max(r.firstSeq(), fromSeq);
            long to = Math.min(r.lastSeq(), toSeq);
            if (from <= to) {
                for (PositionSample s : catalog.databases().samples(set.name(), from, to)) {
                    if (lineage.holds(s.seq(), s.lineageSeq())) {
                        out.add(s);
                    }
                }
            }
        }
        return out;
    }

    /** The newest sample, or the database's position now when it answers and is newer. */
    private PositionSample newestKnown(List<PositionSample> samples) throws IOException {
        PositionSample newest = samples.get(samples.size() - 1);
        try {
            Optional<PositionSample> now = adapter.sample(set.name(), set::lastSeq);
            if (now.isPresent() && now.get().boundOrder() > newest.boundOrder()) {
                newest = now.get();
            }
        } catch (RewindException e) {
            // the database is down: the newest sample is what is known
        }
        return newest;
    }

    private static Optional<PositionSample> lastBoundBefore(List<PositionSample> samples, long order) {
        PositionSample found = null;
        for (PositionSample s : samples) {
            if (s.boundOrder() < order) {
                found = s;
            }
        }
        return Optional.ofNullable(found);
    }

    private static Optional<PositionSample> firstDurableFrom(List<PositionSample> samples, long order) {
        for (PositionSample s : samples) {
            if (s.durableOrder() > order) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    private String positionWord() {
        return switch (adapter.engine()) {
            case POSTGRESQL -> "LSN";
            case MARIADB -> "binlog position";
            case H2 -> "position";
        };
    }

    private RewindException outside(DatabasePosition p, PositionSample oldest, PositionSample newest) {
        return new RewindException(positionWord() + " " + p + " is outside the set's history (oldest " + oldest.boundPosition() + ", newest "
                + newest.boundPosition() + ")");
    }
}
