package dev.rewind.increments.journal;

/** What a journal record says happened. Writes, trims and write-zeroes are numbered events; marks are not. */
public enum RecordType {
    /** Bytes written; the payload is the data. */
    WRITE(1, true),
    /** A range discarded; reads of it return zeros afterwards. */
    TRIM(2, true),
    /** A range set to zeros. */
    WRITE_ZEROES(3, true),
    /** Everything up to the seq in the record's offset field was forced to disk with this record. */
    FLUSH_MARK(16, false);

    private final int code;
    private final boolean numbered;

    RecordType(int code, boolean numbered) {
        this.code = code;
        this.numbered = numbered;
    }

    public int code() {
        return code;
    }

    public boolean isNumbered() {
        return numbered;
    }

    /** Zero-filling events: their range reads as zeros afterwards. */
    public boolean zeroes() {
        return this == TRIM || this == WRITE_ZEROES;
    }

    static RecordType fromCode(int code) {
        for (RecordType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
