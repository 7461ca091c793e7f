package dev.rewind.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Path;

/**
 * {@code rewind sandbox start|stop} without {@code rewind serve}: refused in one line, nothing
 * changed on disk (the daemon serves the exports the database is mounted from, and owns the
 * servers it started). With a daemon, they are exercised by the real-server tests
 * {@code PostgresSandboxIT} and {@code MariaDbSandboxIT}.
 */
class SandboxDatabaseCommandTest {
    @TempDir
    Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cli = new CliHarness(tmp);
        cli.createShop();
    }

    @Test
    void startAndStopWithoutTheDaemonAreRefused() throws Exception {
        cli.refused("sandbox start needs 'rewind serve' running: it serves the sandbox's exports", "sandbox", "start", "shop", "sb");
        cli.refused("sandbox start needs 'rewind serve' running", "sandbox", "start", "shop", "sb", "--port", "5999", "--timeout", "1m");
        cli.refused("sandbox stop needs 'rewind serve' running", "sandbox", "stop", "shop", "sb");
    }
}
