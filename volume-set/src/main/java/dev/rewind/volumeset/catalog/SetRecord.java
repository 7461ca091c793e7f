package dev.rewind.volumeset.catalog;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/** A production volume set: the members of one database, one journal, one write sequence. */
public record SetRecord(String name, UUID uuid, Path secondaryDir, long regionSizeBytes, List<MemberRecord> members) {

    public SetRecord {
        members = List.copyOf(members);
    }

    public MemberRecord member(String memberName) {
        for (MemberRecord m : members) {
            if (m.name().equals(memberName)) {
                return m;
            }
        }
        return null;
    }
}
