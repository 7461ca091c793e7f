package dev.rewind.dbadapters.locate;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.RelationNameHistory;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.RelationNames;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The relation names the position sampler recorded for a set ({@link RelationNames}), as a
 * {@link RelationNameHistory}: only mappings taken on the set's current {@link Lineage}
 * count (a restore in place brings the log back, and the same positions come again with
 * other tables), and before a position the newest mapping read before it is in force.
 */
public final class SampledRelationNames implements RelationNameHistory {
    private final List<RelationNames> newestFirst;

    SampledRelationNames(List<RelationNames> newestFirst, Lineage lineage) {
        this.newestFirst = newestFirst.stream().filter(m -> lineage.holds(m.seq(), m.lineageSeq())).toList();
    }

    /** What was recorded for {@code set}, on its lineage now. */
    public static SampledRelationNames of(CapturedSet set, Catalog catalog) {
        Lineage lineage = Lineage.of(catalog.listRestores(set.name()), set.lastSeq());
        return new SampledRelationNames(catalog.databases().relationNamesBefore(set.name(), Long.MAX_VALUE), lineage);
    }

    @Override
    public Optional<Map<String, String>> before(long order) {
        for (RelationNames m : newestFirst) {
            if (m.positionOrder() < order) {
                return Optional.of(m.namesByFile());
            }
        }
        return Optional.empty();
    }
}
