package dev.rewind.dbadapters.postgresql;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Runs PostgreSQL's {@code pg_waldump} over a WAL directory and hands each record it prints
 * to a consumer, streaming (a WAL directory can hold gigabytes). Times in its output are in
 * UTC ({@code TZ=UTC}). Reaching the end of the readable WAL is normal: pg_waldump then
 * exits with "error in WAL record", which is not a failure here.
 */
final class WalDump {
    private static final Path DEBIAN_SERVERS = Path.of("/usr/lib/postgresql");
    private static final int STDERR_KEEP_BYTES = 64 * 1024;

    private final Path executable;

    WalDump(Path executable) {
        this.executable = executable;
    }

    /**
     * The pg_waldump for a server of {@code majorVersion} (it reads only its own version's
     * WAL): Debian's {@code /usr/lib/postgresql/<major>/bin}, else the one on PATH, else the
     * newest under {@code /usr/lib/postgresql}; empty when there is none.
     */
    static Optional<WalDump> find(int majorVersion) {
        Path own = DEBIAN_SERVERS.resolve(Integer.toString(majorVersion)).resolve("bin/pg_waldump");
        if (Files.isExecutable(own)) {
            return Optional.of(new WalDump(own));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = dir.isEmpty() ? null : Path.of(dir, "pg_waldump");
            if (p != null && Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(new WalDump(p));
            }
        }
        if (!Files.isDirectory(DEBIAN_SERVERS)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(DEBIAN_SERVERS)) {
            return versions.map(v -> v.resolve("bin/pg_waldump")).filter(Files::isExecutable)
                    .max(Comparator.comparing(p -> p.getParent().getParent().getFileName().toString(), WalDump::compareVersions))
                    .map(WalDump::new);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    Path executable() {
        return executable;
    }

    /** Reads the WAL of {@code timeline} in {@code walDir} from {@code start} up to {@code end}, record by record. */
    void read(Path walDir, int timeline, Lsn start, Lsn end, Consumer<WalRecord> records) throws IOException {
        read(walDir, timeline, start, end, records, null);
    }

    /**
     * As {@link #read(Path, int, Lsn, Lsn, Consumer)}, where {@code walDir} ends before
     * {@code end} with the segment before {@code missingAtEnd} (a file name): the last record
     * may run on into that segment, and pg_waldump's "could not find file" for it is the end.
     */
    void read(Path walDir, int timeline, Lsn start, Lsn end, Consumer<WalRecord> records, String missingAtEnd) throws IOException {
        List<String> command = new ArrayList<>(List.of(executable.toString(), "-p", walDir.toString(), "-t", Integer.toString(timeline),
                "-s", start.toString(), "-e", end.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("TZ", "UTC");
        pb.environment().put("LC_ALL", "C");
        Process process = pb.start();
        StderrTail stderr = new StderrTail(process.getErrorStream());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                WalRecord.parse(line).ifPresent(records);
            }
        } catch (RuntimeException | IOException e) {
            process.destroyForcibly();
            throw e;
        }
        int exit;
        try {
            exit = process.waitFor();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + executable);
        }
        String err = stderr.text();
        boolean endOfRun = missingAtEnd != null && err.contains("could not find file \"" + missingAtEnd + "\"");
        if (exit != 0 && !err.contains("error in WAL record at") && !endOfRun) {
            String first = err.lines().filter(l -> !l.isBlank()).findFirst().orElse("exit status " + exit);
            throw new IOException(executable + " -p " + walDir + " failed: " + first);
        }
    }

    private static int compareVersions(String a, String b) {
        try {
            return Double.compare(Double.parseDouble(a), Double.parseDouble(b));
        } catch (NumberFormatException e) {
            return a.compareTo(b);
        }
    }

    /** The first part of a process's standard error, read in the background so the process never blocks on it. */
    private static final class StderrTail {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        StderrTail(InputStream in) {
            thread = new Thread(() -> {
                byte[] buf = new byte[4096];
                try (in) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        synchronized (bytes) {
                            if (bytes.size() < STDERR_KEEP_BYTES) {
                                bytes.write(buf, 0, n);
                            }
                        }
                    }
                } catch (IOException e) {
                    // the process is gone; keep what was read
                }
            }, "pg_waldump-stderr");
            thread.setDaemon(true);
            thread.start();
        }

        String text() {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
