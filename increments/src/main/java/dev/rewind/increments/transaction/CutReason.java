package dev.rewind.increments.transaction;

/** Why a transaction was cut where it was. */
public enum CutReason {
    /** The fixed period ({@code --cut-every}) ran out. */
    PERIOD,
    /** The variable period that follows the write rate ({@code --cut-adaptive}) ran out. */
    ADAPTIVE,
    /** The transaction reached its number of writes ({@code --cut-writes}). */
    WRITES,
    /** The transaction reached its number of bytes ({@code --cut-bytes}). */
    BYTES,
    /** Asked for ({@code rewind cut}, a bookmark, a restore). */
    DEMAND;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
