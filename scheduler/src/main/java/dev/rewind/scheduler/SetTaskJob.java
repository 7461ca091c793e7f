package dev.rewind.scheduler;

import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobExecutionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Quartz job for every kind: reads kind and set from its key and calls the matching
 * {@link SetTasks} method. One run per key at a time. A failure is logged as one line and
 * swallowed, so Quartz neither unschedules the trigger nor re-fires it at once: the next
 * period tries again.
 */
@DisallowConcurrentExecution
final class SetTaskJob implements Job {
    private static final Logger LOG = LoggerFactory.getLogger(SetTaskJob.class);

    private final SetTasks tasks;

    SetTaskJob(SetTasks tasks) {
        this.tasks = tasks;
    }

    @Override
    public void execute(JobExecutionContext context) {
        String keyName = context.getJobDetail().getKey().getName();
        JobKind.Named named = JobKind.parse(keyName).orElse(null);
        if (named == null) {
            LOG.warn("scheduled job '{}' names no kind and set; nothing run", keyName);
            return;
        }
        try {
            switch (named.kind()) {
                case CUT -> tasks.cut(named.set());
                case CHECKPOINT -> tasks.checkpoint(named.set());
                case CONSISTENT_BOOKMARK -> tasks.consistentBookmark(named.set());
                case RETAIN -> tasks.retain(named.set());
            }
        } catch (Exception e) {
            LOG.warn("scheduled {} of set '{}' failed: {}; it runs again at its next fire time",
                    named.kind().label(), named.set(), oneLine(e));
        }
    }

    private static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.split("\\R", 2)[0];
    }
}
