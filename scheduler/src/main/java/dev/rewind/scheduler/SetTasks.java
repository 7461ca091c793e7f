package dev.rewind.scheduler;

/**
 * What the scheduled jobs do to a set, implemented by the daemon (which owns the open sets).
 * A job calls one method for its set; an exception is logged as one line and the schedule
 * stays as it was, so the next period tries again.
 */
public interface SetTasks {

    /** Cuts the set's current transaction (a period cut). */
    void cut(String set) throws Exception;

    /** Checkpoints the set (makes its capture state durable so that recovery starts from here). */
    void checkpoint(String set) throws Exception;

    /**
     * Takes a consistent bookmark of the set through its attached database (named after the
     * time it is taken); a set without a database, or a database that is down, fails this run.
     */
    void consistentBookmark(String set) throws Exception;

    /** Runs a retention pass on the set: the points its rules no longer keep are faded out. */
    void retain(String set) throws Exception;
}
