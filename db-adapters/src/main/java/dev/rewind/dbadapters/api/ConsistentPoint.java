package dev.rewind.dbadapters.api;

/**
 * What a consistent bookmark recorded: the seq at which the database's files were
 * consistent, the database's position at that instant, and, where the engine has one, its
 * global transaction id ({@code gtid}, MariaDB) and any detail worth showing (the restore
 * point's name, the checkpoint's redo LSN).
 */
public record ConsistentPoint(long seq, DatabasePosition position, String gtid, String detail) {

    /** The text stored with the bookmark: the position, then the GTID if any. */
    public String describe() {
        if (position == null) {
            return detail;
        }
        return gtid == null ? position.text() : position.text() + " gtid " + gtid;
    }
}
