package dev.rewind.dbadapters.mariadb;

import dev.rewind.volumeset.RewindException;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs {@code mariadb-binlog --base64-output=decode-rows} (or {@code mysqlbinlog}) on a local
 * binlog file with {@code TZ=UTC} and streams its text through a {@link BinlogTextParser}.
 * The tool gets no credentials: it reads the file, not the server.
 */
final class BinlogReader {
    private static final List<String> TOOLS = List.of("mariadb-binlog", "mysqlbinlog");
    private static final List<String> DIRS = List.of("/usr/local/bin", "/usr/bin", "/bin");

    private final Path tool;

    private BinlogReader(Path tool) {
        this.tool = tool;
    }

    /** The tool on PATH or in /usr/bin; a RewindException saying what to install when there is none. */
    static BinlogReader find() {
        List<String> dirs = new ArrayList<>(Arrays.asList(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(DIRS);
        for (String name : TOOLS) {
            for (String dir : dirs) {
                Path p = dir.isEmpty() ? null : Path.of(dir, name);
                if (p != null && Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return new BinlogReader(p);
                }
            }
        }
        throw new RewindException("mariadb-binlog is not installed (it reads the binlog for rewind db find): apt-get install mariadb-client");
    }

    /** Hands every statement of {@code file} (named {@code name} in positions) to {@code out}, oldest first. */
    void read(Path file, String name, Consumer<BinlogStatement> out) throws IOException {
        if (!Files.isReadable(file)) {
            throw new RewindException("cannot read the binlog file " + file + "; run rewind as a user that can (root or the server's OS user)");
        }
        Path errors = Files.createTempFile("rewind-binlog-", ".err");
        Process p = null;
        try {
            ProcessBuilder pb = new ProcessBuilder(tool.toString(), "--no-defaults", "--base64-output=decode-rows", file.toString())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectError(errors.toFile());
            pb.environment().put("TZ", "UTC");
            p = pb.start();
            BinlogTextParser parser = new BinlogTextParser(name, out);
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    parser.line(line);
                }
            }
            parser.end();
            int exit = p.waitFor();
            if (exit != 0) {
                String err = Files.readString(errors, StandardCharsets.UTF_8).strip();
                throw new IOException(tool.getFileName() + " could not read " + file + " (exit " + exit + "): "
                        + (err.isEmpty() ? "no message" : err.lines().findFirst().orElse("")));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading " + file, e);
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            Files.deleteIfExists(errors);
        }
    }
}
