package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.datadir.DataDir;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind bisect}'s bad input, without a database or a daemon: each is one line, exit 1
 * (or 2 for bad usage), and nothing changes on disk (no sandbox is created).
 */
class BisectCommandTest {
    private static final String CHECK = "select count(*) > 0 from orders";

    @TempDir
    Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() throws Exception {
        cli = new CliHarness(tmp);
        cli.createShop();
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            for (int i = 0; i < 6; i++) {
                set.device("data").write(i * 4096L, ByteBuffer.wrap(new byte[] {(byte) (i + 1)}), true);
            }
        }
        cli.ok("bookmark", "shop", "early", "--seq", "2");
    }

    private void attach() {
        cli.ok("db", "attach", "shop", "--jdbc", "jdbc:h2:tcp://127.0.0.1:1/shopdb", "--no-check");
    }

    @Test
    void anUnknownSetOrAnEmptyCheckIsRefused() throws Exception {
        cli.refused("no set named nosuch", "bisect", "nosuch", "--good", "1", "--check", CHECK);
        cli.refused("--check is empty; give a query that holds while the database is good", "bisect", "shop", "--good", "1", "--check", " ");
    }

    @Test
    void aSetWithoutAnAttachedDatabaseIsRefused() throws Exception {
        cli.refused("set shop has no database attached; attach one with: rewind db attach shop --jdbc URL",
                "bisect", "shop", "--good", "1", "--check", CHECK);
    }

    @Test
    void unknownOrMalformedPointsAreRefused() throws Exception {
        attach();
        cli.refused("set shop has no bookmark named nosuch", "bisect", "shop", "--good", "bookmark:nosuch", "--check", CHECK);
        cli.usage("'yesterday' in --good is not a point in time", "bisect", "shop", "--good", "yesterday", "--check", CHECK);
        cli.usage("'soon' in --bad is not a point in time", "bisect", "shop", "--good", "1", "--bad", "soon", "--check", CHECK);
        cli.refused("--bad seq 99 is after the newest write of set shop (seq 6)", "bisect", "shop", "--good", "1", "--bad", "99",
                "--check", CHECK);
        cli.refused("in the future", "bisect", "shop", "--good", "time:2999-01-01T00:00:00Z", "--check", CHECK);
    }

    @Test
    void goodNotBeforeBadIsRefused() throws Exception {
        attach();
        cli.refused("--good (seq 4) must be before --bad (seq 4)", "bisect", "shop", "--good", "4", "--bad", "4", "--check", CHECK);
        cli.refused("--good (seq 5) must be before --bad (seq 2)", "bisect", "shop", "--good", "5", "--bad", "bookmark:early", "--check", CHECK);
        cli.refused("--good (seq 6) must be before --bad (seq 6), the newest write", "bisect", "shop", "--good", "6", "--check", CHECK);
    }

    @Test
    void withoutTheDaemonItSaysToStartIt() throws Exception {
        attach();
        cli.refused("bisect needs 'rewind serve' running", "bisect", "shop", "--good", "bookmark:early", "--check", CHECK);
    }

    @Test
    void badUsageIsExitTwo() throws Exception {
        attach();
        cli.usage("--timeout 'forever'", "bisect", "shop", "--good", "1", "--check", CHECK, "--timeout", "forever");
        cli.usage("Missing required option: '--check=SQL'", "bisect", "shop", "--good", "1");
        cli.usage("Missing required option: '--good=POINT'", "bisect", "shop", "--check", CHECK);
    }

    @Test
    void helpShowsExamples() {
        CliHarness.Run r = cli.ok("bisect", "--help");
        assertTrue(r.out().contains("Examples:") && r.out().contains("rewind bisect shop --good bookmark:before-upgrade"), r.out());
        assertTrue(cli.ok("--help").out().contains("bisect"), "listed among the subcommands");
    }
}
