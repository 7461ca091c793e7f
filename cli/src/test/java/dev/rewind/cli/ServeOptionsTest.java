package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.StoppedSetRecovery;
import dev.rewind.capture.nbd.NbdServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** The NBD limits of {@code rewind serve}: parsed into the server's settings, defaults shown, bad values refused as usage errors. */
class ServeOptionsTest {
    @TempDir
    Path tmp;

    private static NbdServer.Settings parse(String... args) {
        CommandLine cl = Main.commandLine();
        String[] all = new String[args.length + 1];
        all[0] = "serve";
        System.arraycopy(args, 0, all, 1, args.length);
        cl.parseArgs(all);
        return ((ServeCommand) cl.getSubcommands().get("serve").getCommand()).nbdSettings();
    }

    @Test
    void withoutOptionsTheServerGetsItsDefaults() {
        assertEquals(NbdServer.Settings.DEFAULT, parse());
    }

    @Test
    void optionsReachTheServerSettings() {
        NbdServer.Settings s = parse("--max-connections", "7", "--handshake-timeout", "500ms", "--reply-timeout", "2m");
        assertEquals(7, s.maxConnections());
        assertEquals(Duration.ofMillis(500), s.handshakeTimeout());
        assertEquals(Duration.ofMinutes(2), s.replyTimeout());
        assertEquals(Duration.ofHours(1), parse("--reply-timeout", "1h").replyTimeout());
        assertEquals(Duration.ofSeconds(45), parse("--handshake-timeout", "45s").handshakeTimeout());
        assertEquals(3, parse("--max-connections-per-client", "3").maxConnectionsPerPeer());
    }

    @Test
    void stoppedSetsAreRetriedAfter1sDoublingUpTo30sOrTheGivenCap() {
        CommandLine cl = Main.commandLine();
        cl.parseArgs("serve");
        assertEquals(new StoppedSetRecovery.Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30)),
                ((ServeCommand) cl.getSubcommands().get("serve").getCommand()).stoppedSetRetry());
        cl = Main.commandLine();
        cl.parseArgs("serve", "--retry-stopped-up-to", "5m");
        assertEquals(new StoppedSetRecovery.Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5)),
                ((ServeCommand) cl.getSubcommands().get("serve").getCommand()).stoppedSetRetry());
    }

    @Test
    void helpShowsTheLimitsAndTheirDefaults() {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "serve", "--help"));
        String help = out.toString().replaceAll("\\s+", " ");
        assertTrue(help.contains("--max-connections") && help.contains("default 128"), help);
        assertTrue(help.contains("--handshake-timeout") && help.contains("default 10s"), help);
        assertTrue(help.contains("--reply-timeout") && help.contains("default 30s"), help);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--max-connections|0|outside the allowed range 1 to 4096",
        "--max-connections|5000|outside the allowed range 1 to 4096",
        "--max-connections|lots|is not a whole number",
        "--max-connections-per-client|0|outside the allowed range 1 to 4096",
        "--max-connections-per-client|x|is not a whole number",
        "--handshake-timeout|0s|outside the allowed range 1 ms to 1 h",
        "--handshake-timeout|10|is not a duration",
        "--handshake-timeout|-1s|is not a duration",
        "--reply-timeout|2h|outside the allowed range 1 ms to 1 h",
        "--reply-timeout|1.5s|is not a duration",
        "--retry-stopped-up-to|500ms|must be 1s to 1h",
        "--retry-stopped-up-to|2h|must be 1s to 1h",
        "--retry-stopped-up-to|soon|is not a duration",
    })
    void badValuesAreUsageErrorsOnOneLineAndTouchNothing(String option, String value, String expected) throws Exception {
        Path data = tmp.resolve("data");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "--data", data.toString(), "serve", option, value);
        assertEquals(Main.EXIT_USAGE, exit, err::toString);
        String line = err.toString().strip();
        assertFalse(line.contains("\n"), line);
        assertTrue(line.startsWith("rewind: " + option + " '" + value + "'") && line.contains(expected), line);
        assertFalse(Files.exists(data), "a refused serve created the data dir");
    }

    @Test
    void unixUrisArePercentEncodedWhereTheClientsNeedIt() {
        assertEquals("nbd+unix:///shop/data@bookmark:before-upgrade?socket=/srv/rewind-data/nbd.sock",
                ServeCommand.unixUri(Path.of("/srv/rewind-data/nbd.sock"), "shop/data@bookmark:before-upgrade"));
        assertEquals("nbd+unix:///?socket=/home/dba/my%20data%20%26%20%2B%23%3F%25/caf%C3%A9/nbd.sock",
                ServeCommand.unixUri(Path.of("/home/dba/my data & +#?%/caf\u00e9/nbd.sock"), ""));
    }
}
