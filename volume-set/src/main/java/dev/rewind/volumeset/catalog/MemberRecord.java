package dev.rewind.volumeset.catalog;

/**
 * One member of a set: a logical volume ({@code kind = LV}, with vgName and lvName)
 * or a whole physical volume ({@code kind = PV}, with pvName).
 */
public record MemberRecord(int index, String name, Kind kind, String vgName, String lvName, String pvName, long sizeBytes) {
    public enum Kind { LV, PV }

    /** How the user names this member on the command line: {@code VG/LV} or {@code pv:PV}. */
    public String source() {
        return kind == Kind.LV ? vgName + "/" + lvName : "pv:" + pvName;
    }
}
