package dev.rewind.scheduler;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * Keeps Quartz's thread interrupts away from an embedded H2 catalog. Quartz interrupts its
 * scheduler thread and its misfire handler when it shuts down, possibly in the middle of a
 * query; an interrupt during H2's file I/O closes the file channel, and with it the whole
 * database, catalog included ("The database has been closed"). Here every JDBC call of a
 * wrapped connection (and of the statements, result sets and other {@code java.sql} objects
 * it hands out) runs on a thread of this class's own pool, which nobody interrupts; the
 * calling thread waits for it and keeps any interrupt it receives for after the call.
 *
 * <p>PostgreSQL's driver talks over a socket stream, which interrupts do not close, so its
 * connections are used as they are.
 */
final class UninterruptibleJdbc implements AutoCloseable {
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final ExecutorService calls = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "rewind-scheduler-jdbc-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    /** A connection from {@code dataSource}, taken and then used where no interrupt reaches it. */
    Connection connect(DataSource dataSource) throws SQLException {
        try {
            return proxy(Connection.class, call(dataSource::getConnection, true));
        } catch (SQLException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new SQLException(t);
        }
    }

    @Override
    public void close() {
        calls.shutdown();
    }

    private <T> T proxy(Class<T> type, Object target) {
        InvocationHandler handler = (self, method, args) -> invoke(target, method, args);
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }

    private Object invoke(Object target, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class || method.getName().equals("unwrap") || method.getName().equals("isWrapperFor")) {
            return call(() -> method.invoke(target, args), false);
        }
        Object result = call(() -> method.invoke(target, args), true);
        Class<?> type = method.getReturnType();
        if (result != null && type.isInterface() && type.getPackageName().equals("java.sql")) {
            return proxy(type, result);
        }
        return result;
    }

    private Object call(Callable<Object> invocation, boolean elsewhere) throws Throwable {
        try {
            if (!elsewhere) {
                return invocation.call();
            }
            Future<Object> future = calls.submit(invocation);
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return future.get();
                    } catch (InterruptedException e) {
                        interrupted = true; // the call finishes regardless; the interrupt is kept for the caller
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof InvocationTargetException ite ? ite.getCause() : t;
    }
}
