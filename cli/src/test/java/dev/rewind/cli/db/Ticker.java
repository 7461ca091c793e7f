package dev.rewind.cli.db;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Production writing while a test works on a sandbox: one thread runs a statement in a loop on
 * its own connection and counts the runs that returned. {@link #close()} stops it and fails if
 * a statement failed (production must keep working).
 */
final class Ticker implements AutoCloseable {
    private static final Duration PATIENCE = Duration.ofMinutes(5);

    private final Thread thread;
    private final AtomicLong ticks = new AtomicLong();
    private final AtomicReference<SQLException> failure = new AtomicReference<>();
    private volatile boolean stop;

    private Ticker(String url, String user, String password, String sql) {
        thread = new Thread(() -> {
            try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement()) {
                while (!stop) {
                    s.execute(sql);
                    ticks.incrementAndGet();
                    Thread.sleep(10);
                }
            } catch (SQLException e) {
                failure.set(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "production-ticker");
    }

    static Ticker start(String url, String user, String password, String sql) {
        Ticker t = new Ticker(url, user, password, sql);
        t.thread.start();
        return t;
    }

    long ticks() {
        return ticks.get();
    }

    /** Waits until {@code n} statements have returned; fails when the ticker stopped or did not get there in minutes. */
    void awaitTicks(long n) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (ticks.get() < n) {
            if (failure.get() != null) {
                throw new AssertionError("production's statement failed", failure.get());
            }
            if (!thread.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("production did not get to " + n + " statements (" + ticks.get() + ")");
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(PATIENCE.toMillis());
        if (failure.get() != null) {
            throw new AssertionError("production's statement failed", failure.get());
        }
    }
}
