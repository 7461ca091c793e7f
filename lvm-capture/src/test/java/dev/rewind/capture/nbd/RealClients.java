package dev.rewind.capture.nbd;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real NBD clients (qemu-io, qemu-img, nbdinfo, nbdcopy, fio) run as processes. A missing
 * binary skips the test with a message, except under {@code CI=true}, where it fails.
 */
final class RealClients {
    private RealClients() {
    }

    record Result(int exitCode, String output) {
    }

    /** The path of {@code binary} on PATH; skips (or, with CI=true, fails) the test without it. */
    static Path require(String binary, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, binary);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String why = binary + " is not installed (Debian package " + debianPackage + ")";
        if ("true".equals(System.getenv("CI"))) {
            fail(why + "; CI=true requires every real-client test to run");
        }
        assumeTrue(false, why + "; skipping this real-client test (it fails instead when CI=true)");
        throw new AssertionError("unreachable");
    }

    /** Runs a command, output and errors together, killing it after {@code timeout}. */
    static Result run(Duration timeout, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        byte[][] output = new byte[1][];
        Thread drain = new Thread(() -> {
            try {
                output[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                output[0] = ("(output lost: " + e + ")").getBytes(StandardCharsets.UTF_8);
            }
        }, "drain-" + command.get(0));
        drain.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            drain.join(5000);
            fail(command + " did not finish within " + timeout);
        }
        drain.join(5000);
        return new Result(p.exitValue(), new String(output[0], StandardCharsets.UTF_8));
    }
}
