package dev.rewind.volumeset.catalog;

import java.util.UUID;

/** A volume group: PVs cut into extents of {@code extentSizeBytes}. */
public record VgRecord(String name, UUID uuid, long extentSizeBytes) {
}
