package dev.rewind.capture;

/** What opening a set had to repair after an unclean stop. */
public record RecoveryReport(long truncatedJournalBytes, int dirtyRegions, long bytesResynced) {
    public boolean wasClean() {
        return truncatedJournalBytes == 0 && dirtyRegions == 0;
    }
}
