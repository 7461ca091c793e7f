package dev.rewind.increments.transaction;

/** Why a transaction was cut where it was. Stored by ordinal in the transaction log: add new reasons at the end only. */
public enum CutReason {
    /** The fixed period ({@code --cut-every}) ran out. */
    PERIOD,
    /** The variable period that follows the write rate ({@code --cut-adaptive}) ran out. */
    ADAPTIVE,
    /** The transaction reached its number of writes ({@code --cut-writes}). */
    WRITES,
    /** The transaction reached its number of bytes ({@code --cut-bytes}). */
    BYTES,
    /** Asked for ({@code rewind cut}). */
    DEMAND,
    /**
     * A restore in place: the cut just before its first write and the one just after its
     * last, so that it is a transaction of its own and both its ends are boundaries.
     */
    RESTORE,
    /** A bookmark: the seq it names is the boundary. */
    BOOKMARK;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
