package dev.rewind.volumeset.catalog;

import java.util.List;
import java.util.UUID;

/** A logical volume: an ordered list of extent runs on the PVs of its VG. */
public record LvRecord(String vgName, String name, UUID uuid, long sizeBytes, List<Segment> segments) {

    /** {@code extentCount} extents of PV {@code pvName} starting at extent {@code startExtent}. */
    public record Segment(String pvName, long startExtent, long extentCount) {
    }

    public LvRecord {
        segments = List.copyOf(segments);
    }
}
