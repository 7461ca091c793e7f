package dev.rewind.increments.journal;

/**
 * What the journal knows of each numbered record of one segment without reading the
 * segment: entry {@code i} is seq {@code firstSeq + i} of that segment. The active segment's
 * entries live in the heap ({@link ActiveSegmentIndex}); a sealed segment's are mapped from
 * its index file ({@link SegmentIndexFile}).
 */
interface SegmentEntries {
    /** Entries readable now; entry {@code i < count()} never changes. */
    int count();

    int member(int i);

    long offset(int i);

    int length(int i);

    long time(int i);

    RecordType type(int i);

    int flags(int i);

    /** Where the record starts in its segment file. */
    long position(int i);
}
