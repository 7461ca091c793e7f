package dev.rewind.cli;

import dev.rewind.dbadapters.locate.Lineage;
import dev.rewind.volumeset.catalog.DatabaseRecords;
import dev.rewind.volumeset.catalog.PositionSample;
import dev.rewind.volumeset.catalog.RestoreRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code DB POSITION} column of {@code rewind log}: the database position the volumes held
 * at a seq, on the lineage the set had then. That is the newest sample at or before the seq
 * taken on that lineage's stretches: a restore in place to seq T whose writes are F..L holds,
 * at each of its own writes, T's position (where it brings the volumes); the seqs after it,
 * positions sampled after L or at or before T; an undo, the positions of the lineage it went
 * back to. A sample from a stretch a restore undid is never shown for a seq after that
 * restore. Rows are asked newest first; the catalog is asked again only when the lineage
 * changes or the row is older than the answer last found.
 */
final class DbPositionColumn {
    private final DatabaseRecords databases;
    private final String setName;
    private final List<RestoreRecord> restores;
    private List<Lineage.SeqRange> lastStretches;
    private PositionSample last;

    DbPositionColumn(DatabaseRecords databases, String setName, List<RestoreRecord> restores) {
        this.databases = databases;
        this.setName = setName;
        this.restores = List.copyOf(restores);
    }

    /** The durable position the volumes held at {@code seq}, or null when no sample places it. */
    String positionAt(long seq) {
        List<Lineage.SeqRange> ranges = Lineage.of(restores, seq).ranges();
        List<Lineage.SeqRange> stretches = stretches(ranges, seq);
        if (!stretches.equals(lastStretches) || last != null && last.seq() > seq) {
            lastStretches = stretches;
            last = newestSample(ranges);
        }
        return last == null ? null : last.durablePosition();
    }

    /** The newest sample on the ranges, newest range first: one taken at a seq of a range, on the lineage that starts there. */
    private PositionSample newestSample(List<Lineage.SeqRange> ranges) {
        for (int i = ranges.size() - 1; i >= 0; i--) {
            Lineage.SeqRange r = ranges.get(i);
            var found = databases.lastSampleOnLineage(setName, r.firstSeq(), r.lastSeq(), r.firstSeq());
            if (found.isPresent()) {
                return found.get();
            }
        }
        return null;
    }

    /**
     * The ranges of the lineage at {@code seq}, the newest one open-ended when it ends at
     * {@code seq}: the same for every seq of one stretch of the history (and for every write of
     * one restore, whose lineage ends at its target), so that those rows share a lookup.
     */
    private static List<Lineage.SeqRange> stretches(List<Lineage.SeqRange> ranges, long seq) {
        List<Lineage.SeqRange> out = new ArrayList<>(ranges);
        if (!out.isEmpty() && out.get(out.size() - 1).lastSeq() == seq) {
            out.set(out.size() - 1, new Lineage.SeqRange(out.get(out.size() - 1).firstSeq(), -1));
        }
        return out;
    }
}
