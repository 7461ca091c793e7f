package dev.rewind.scheduler;

import java.time.Duration;
import java.util.Properties;
import org.quartz.impl.jdbcjobstore.JobStoreTX;
import org.quartz.impl.jdbcjobstore.PostgreSQLDelegate;
import org.quartz.impl.jdbcjobstore.StdJDBCDelegate;
import org.quartz.simpl.SimpleThreadPool;

/**
 * The one Quartz configuration Rewind runs: scheduler {@code rewind}, not clustered, a pool
 * of two daemon threads, {@code JobStoreTX} over the catalog's pool with the delegate for its
 * database and table prefix {@code QRTZ_}. Quartz 2.5 no longer has an update check, so
 * there is none to turn off.
 *
 * <p>The misfire threshold ({@link #MISFIRE_THRESHOLD}) is well under the shortest period
 * allowed ({@link #MIN_PERIOD}): a trigger later than that is a misfire, and each trigger's
 * instruction (fire now, keep the count) makes it one catch-up run whatever the downtime.
 */
final class QuartzSettings {
    static final String SCHEDULER_NAME = "rewind";
    static final String DATA_SOURCE_NAME = "rewind-catalog";
    static final String TABLE_PREFIX = "QRTZ_";
    static final int THREADS = 2;
    static final Duration MISFIRE_THRESHOLD = Duration.ofMillis(250);
    static final Duration MIN_PERIOD = Duration.ofSeconds(1);

    private QuartzSettings() {
    }

    static Properties properties(boolean h2) {
        Properties p = new Properties();
        p.setProperty("org.quartz.scheduler.instanceName", SCHEDULER_NAME);
        p.setProperty("org.quartz.scheduler.threadName", "rewind-scheduler");
        p.setProperty("org.quartz.scheduler.makeSchedulerThreadDaemon", "true");
        p.setProperty("org.quartz.scheduler.rmi.export", "false");
        p.setProperty("org.quartz.scheduler.rmi.proxy", "false");
        p.setProperty("org.quartz.threadPool.class", SimpleThreadPool.class.getName());
        p.setProperty("org.quartz.threadPool.threadCount", Integer.toString(THREADS));
        p.setProperty("org.quartz.threadPool.threadNamePrefix", "rewind-job");
        p.setProperty("org.quartz.threadPool.makeThreadsDaemons", "true");
        p.setProperty("org.quartz.jobStore.class", JobStoreTX.class.getName());
        p.setProperty("org.quartz.jobStore.driverDelegateClass", (h2 ? StdJDBCDelegate.class : PostgreSQLDelegate.class).getName());
        p.setProperty("org.quartz.jobStore.dataSource", DATA_SOURCE_NAME);
        p.setProperty("org.quartz.jobStore.tablePrefix", TABLE_PREFIX);
        p.setProperty("org.quartz.jobStore.isClustered", "false");
        p.setProperty("org.quartz.jobStore.useProperties", "true");
        p.setProperty("org.quartz.jobStore.makeThreadsDaemons", "true");
        p.setProperty("org.quartz.jobStore.misfireThreshold", Long.toString(MISFIRE_THRESHOLD.toMillis()));
        return p;
    }
}
