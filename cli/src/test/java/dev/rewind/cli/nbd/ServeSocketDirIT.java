package dev.rewind.cli.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.cli.Main;
import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rewind serve --socket-dir DIR}: a data dir whose socket paths would not fit a Unix
 * socket's 107 bytes is served with its sockets elsewhere, the other commands find the daemon
 * through the data dir's daemon.json, and without {@code --socket-dir} it is refused with one
 * line that names the option instead of a bare bind error.
 */
class ServeSocketDirIT {
    private static final int DATA_PATH_CHARS = 150;
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path tmp;

    /** A directory for {@link RewindServe#create} whose data dir ({@code dir/data}) is {@value #DATA_PATH_CHARS} characters long. */
    private Path longDir() {
        int pad = DATA_PATH_CHARS - tmp.toAbsolutePath().toString().length() - "/".length() - "/data".length();
        Path dir = tmp.toAbsolutePath().resolve("d".repeat(pad));
        assertEquals(DATA_PATH_CHARS, dir.resolve("data").toString().length());
        return dir;
    }

    @Test
    void aDataDirAtA150CharacterPathServesWithSocketDirAndCommandsFindTheDaemon() throws Exception {
        Path sockets = tmp.resolve("run");
        try (RewindServe serve = RewindServe.create(longDir(), "data", "4M").socketDir(sockets)) {
            serve.start();
            assertTrue(Files.exists(sockets.resolve("nbd.sock")) && Files.exists(sockets.resolve("control.sock")),
                    "both sockets in the socket dir: " + serve.log());
            assertFalse(Files.exists(serve.data.resolve("nbd.sock")), "none in the data dir");
            String status = serve.ok("status", RewindServe.SET).out();
            assertTrue(status.contains(RewindServe.SET), status);
            Tools.Result size = Tools.run(TIMEOUT, List.of(Tools.requireTool("nbdinfo", "libnbd-bin"), "--size",
                    serve.uri(RewindServe.SET + "/data")));
            assertEquals("4194304", size.assertOk().out().strip());
            int exit = serve.stop();
            assertTrue(exit == 0 || exit == 143, "rewind serve exited with status " + exit + " on SIGTERM:\n" + serve.log());
            assertFalse(Files.exists(sockets.resolve("nbd.sock")) || Files.exists(sockets.resolve("control.sock")),
                    "a clean stop removes both sockets");
        }
    }

    @Test
    void aDataDirAtA150CharacterPathIsRefusedWithOneLineNamingSocketDir() {
        try (RewindServe serve = RewindServe.create(longDir(), "data", "4M")) {
            Tools.Result r = serve.rewind(TIMEOUT, "serve");
            assertEquals(Main.EXIT_REFUSED, r.exitCode(), r.describe());
            String err = r.err().strip();
            assertEquals(1, err.lines().count(), "one line: " + r.describe());
            assertTrue(err.contains("--socket-dir") && err.contains("107"), err);
            assertFalse(err.contains("I/O error"), err);
        }
    }
}
