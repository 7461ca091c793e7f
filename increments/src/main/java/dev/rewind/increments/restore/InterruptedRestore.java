package dev.rewind.increments.restore;

/**
 * A restore in place found unfinished when the set was opened (killed, power lost, or failed
 * part way): its intent, and how far it got — it journaled {@code restoreSeqsWritten} writes
 * ({@code bytesWritten} bytes) as seqs {@code intent.firstRestoreSeq()..lastRestoreSeq}.
 * Until it is resumed or superseded, the set holds a mix of the target and what came after it.
 */
public record InterruptedRestore(RestoreIntent intent, long lastRestoreSeq, long restoreSeqsWritten, long bytesWritten) {

    /** One line for a person: which restore, how far it got, and what to run. */
    public String describe(String setName) {
        String progress = restoreSeqsWritten == 0 ? "before its first write reached the journal"
                : "after rewriting " + bytesWritten + " of " + intent.plannedBytes() + " planned bytes in " + restoreSeqsWritten
                + " write(s), seqs " + intent.firstRestoreSeq() + ".." + lastRestoreSeq;
        return "restore in place to seq " + intent.targetSeq() + " (started " + intent.startedAt() + ", head was seq "
                + intent.headSeqAtStart() + ") was interrupted " + progress + "; the set is half restored, its members are neither"
                + " written nor served until '" + resumeCommand(setName) + "' finishes it (or a restore in place elsewhere supersedes it)";
    }

    public static String resumeCommand(String setName) {
        return "rewind restore --resume " + setName;
    }
}
