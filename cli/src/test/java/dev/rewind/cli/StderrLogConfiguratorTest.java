package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import dev.rewind.cli.daemon.ControlServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StderrLogConfiguratorTest {

    @Test
    void messagesArePrefixedAndCarryTheirStackTrace() {
        LoggerContext context = new LoggerContext();
        var encoder = new StderrLogConfigurator.MessageEncoder();
        encoder.setContext(context);
        var logger = context.getLogger("dev.rewind.x");
        String plain = new String(encoder.encode(new LoggingEvent("x", logger, Level.WARN, "set {}: {}", null, new Object[] {"shop", "slow"})),
                StandardCharsets.UTF_8);
        assertEquals("rewind: set shop: slow" + System.lineSeparator(), plain);
        String withError = new String(encoder.encode(new LoggingEvent("x", logger, Level.WARN, "closing failed", new IllegalStateException("boom"), null)),
                StandardCharsets.UTF_8);
        assertTrue(withError.startsWith("rewind: closing failed" + System.lineSeparator() + "java.lang.IllegalStateException: boom"), withError);
    }

    @Test
    void stepsAsideForATestConfigurationAndOtherwiseLogsWarningsToStderr() {
        // this module's tests have a logback-test.xml, which must keep working
        LoggerContext withTestConfiguration = new LoggerContext();
        assertEquals(ch.qos.logback.classic.spi.Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY,
                new StderrLogConfigurator().configure(withTestConfiguration));
        assertFalse(withTestConfiguration.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext(),
                "stepping aside adds no appender of its own");

        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter()); // as logback's SLF4J provider gives its context
        try {
            new StderrLogConfigurator().logToStderr(context, null);
            context.getLogger("dev.rewind.x").info("an info line is not shown");
            context.getLogger("dev.rewind.x").warn("set {} is slow", "shop");
            context.getLogger("org.h2").info("nor H2's chatter");
            context.getLogger(ControlServer.AUDIT_LOG).info("control: rewind restore shop --to-seq 1 started");
        } finally {
            System.setErr(saved);
        }
        assertEquals("rewind: set shop is slow" + System.lineSeparator() + "rewind: control: rewind restore shop --to-seq 1 started"
                + System.lineSeparator(), stderr.toString(StandardCharsets.UTF_8),
                () -> "warnings, and the daemon's record of the commands it runs, on stderr; " + context.getStatusManager().getCopyOfStatusList());
    }
}
