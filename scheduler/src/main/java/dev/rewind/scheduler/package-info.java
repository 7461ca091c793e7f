/**
 * Scheduled work over production volume sets: period cuts and checkpoints as Quartz jobs,
 * with Quartz's job store in the catalog database so that schedules survive a restart.
 *
 * <p>The public API is {@link dev.rewind.scheduler.RewindScheduler} (start, schedule, list,
 * unschedule, close), {@link dev.rewind.scheduler.SetTasks} (what a job does, implemented by the
 * daemon) and {@link dev.rewind.scheduler.ScheduledJob} (one row of the schedule). The jobs are
 * thin: each calls one {@code SetTasks} method for its set. The job store's tables are created
 * by Flyway from {@code db/scheduler/h2} or {@code db/scheduler/postgresql}, with their own
 * schema history table beside the catalog's.
 */
package dev.rewind.scheduler;
