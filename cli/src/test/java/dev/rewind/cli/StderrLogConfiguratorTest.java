package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
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
        assertEquals(ch.qos.logback.classic.spi.Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY,
                new StderrLogConfigurator().configure(new LoggerContext()));
    }
}
