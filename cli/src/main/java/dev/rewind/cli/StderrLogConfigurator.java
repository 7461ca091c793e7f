package dev.rewind.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.spi.ContextAwareBase;
import dev.rewind.cli.daemon.ControlServer;
import java.nio.charset.StandardCharsets;

/**
 * The command's logging, set up in code: warnings (or the level in {@code $REWIND_LOG_LEVEL}) on stderr
 * as {@code rewind: message}, only warnings from HikariCP, Flyway and H2, and the daemon's
 * record of the commands it runs ({@link ControlServer#AUDIT_LOG}) at INFO. Logback finds
 * it through {@code META-INF/services} before it looks for XML, so a short command does not
 * pay for logback's XML configurator (hundreds of classes, a large share of its start-up).
 * A {@code logback-test.xml} on the class path or {@code -Dlogback.configurationFile} still
 * wins: then this configurator steps aside.
 */
public final class StderrLogConfigurator extends ContextAwareBase implements Configurator {
    static final String LEVEL_ENV = "REWIND_LOG_LEVEL";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || StderrLogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        logToStderr(context, System.getProperty(LEVEL_ENV, System.getenv(LEVEL_ENV)));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * Sends {@code context}'s log to stderr as {@code rewind: message}: {@code level} and above
     * (warnings when null), warnings only from HikariCP, Flyway and H2, and the daemon's record
     * of the commands it runs ({@link ControlServer#AUDIT_LOG}) always.
     */
    void logToStderr(LoggerContext context, String level) {
        MessageEncoder encoder = new MessageEncoder();
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(level, Level.WARN));
        root.addAppender(stderr);
        for (String quiet : new String[] {"com.zaxxer.hikari", "org.flywaydb", "org.h2"}) {
            context.getLogger(quiet).setLevel(Level.WARN);
        }
        if (!root.isDebugEnabled()) {
            context.getLogger(ControlServer.AUDIT_LOG).setLevel(Level.INFO);
        }
    }

    /** {@code rewind: <message>} and a newline, then the stack trace of an exception logged with it. */
    static final class MessageEncoder extends EncoderBase<ILoggingEvent> {
        @Override
        public byte[] headerBytes() {
            return null;
        }

        @Override
        public byte[] encode(ILoggingEvent event) {
            StringBuilder b = new StringBuilder("rewind: ").append(event.getFormattedMessage()).append(System.lineSeparator());
            IThrowableProxy thrown = event.getThrowableProxy();
            if (thrown != null) {
                b.append(ThrowableProxyUtil.asString(thrown)).append(System.lineSeparator());
            }
            return b.toString().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] footerBytes() {
            return null;
        }
    }
}
