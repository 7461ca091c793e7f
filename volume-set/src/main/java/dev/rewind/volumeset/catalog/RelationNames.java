package dev.rewind.volumeset.catalog;

import java.util.Map;
import java.util.TreeMap;

/**
 * The names of a database's user tables by the files that hold them ({@code base/5/16384}
 * → {@code shop.orders}; a table's indexes and TOAST files map to the table), read at the
 * log position {@code positionOrder} ({@code positionText}): nothing committed at or after it
 * is in the mapping. Taken at {@code seq} on the lineage that starts at {@code lineageSeq}
 * (0 while not yet known), as a {@link PositionSample} is.
 */
public record RelationNames(String setName, long seq, long lineageSeq, long timeMicros, String positionText, long positionOrder,
        Map<String, String> namesByFile) {

    public RelationNames {
        namesByFile = Map.copyOf(namesByFile);
    }

    /** This mapping, taken on the lineage that starts at {@code firstSeq}. */
    public RelationNames onLineage(long firstSeq) {
        return new RelationNames(setName, seq, firstSeq, timeMicros, positionText, positionOrder, namesByFile);
    }

    /** The names sorted by file, for display and comparison. */
    public Map<String, String> sorted() {
        return new TreeMap<>(namesByFile);
    }
}
