package dev.rewind.volumeset.catalog;

import java.nio.file.Path;
import java.util.UUID;

/** A physical volume as the catalog knows it. {@code vgName} is null while the PV is in no VG. */
public record PvRecord(String name, UUID uuid, Path path, long sizeBytes, long dataOffsetBytes, String vgName, int pvIndex) {
    public long dataBytes() {
        return sizeBytes - dataOffsetBytes;
    }
}
