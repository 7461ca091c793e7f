package dev.rewind.dbadapters.postgresql;

import dev.rewind.volumeset.RewindException;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /** A record's total length and LSN in pg_waldump's line: {@code len (rec/tot):    114/   114, tx: 0, lsn: 0/01516BE8}. */
    private static final Pattern RECORD_EXTENT = Pattern.compile("len \\(rec/tot\\):\\s*\\d+/\\s*(\\d+), tx:\\s*\\d+, lsn: ([0-9A-F]+/[0-9A-F]+)");
    /** XLogPageHeaderData, MAXALIGNed: every WAL page but a segment's first begins with it. */
    static final int SHORT_PAGE_HEADER_BYTES = 24;
    /** XLogLongPageHeaderData, MAXALIGNed: a segment's first page begins with it. */
    static final int LONG_PAGE_HEADER_BYTES = 40;
    /** Records begin at multiples of MAXALIGN. */
    private static final long MAX_ALIGN = 8;

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

    /** {@link #find}, or a RewindException saying what to install. */
    static WalDump require(int majorVersion) {
        return find(majorVersion).orElseThrow(() -> new RewindException("pg_waldump not found (on PATH or in /usr/lib/postgresql/"
                + majorVersion + "/bin); install PostgreSQL " + majorVersion + "'s client tools on this host, e.g. apt-get install postgresql-"
                + majorVersion));
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
        run(List.of("-p", walDir.toString(), "-t", Integer.toString(timeline), "-s", start.toString(), "-e", end.toString()), walDir, false,
                missingAtEnd, line -> WalRecord.parse(line).ifPresent(records));
    }

    /**
     * Where the valid WAL ends: the end of the last record pg_waldump reads from {@code start}
     * (a record's start, e.g. the latest checkpoint's) until the WAL stops making sense (zeroes
     * or an older segment's records in a recycled file), as a server that stopped would have
     * flushed it. Empty when it reads no record at all.
     */
    Optional<Lsn> endOfValidRecords(Path walDir, int timeline, Lsn start, long segmentSizeBytes, int walBlockBytes) throws IOException {
        Lsn[] end = {null};
        run(List.of("-p", walDir.toString(), "-t", Integer.toString(timeline), "-s", start.toString()), walDir, true, null, line -> {
            Matcher m = RECORD_EXTENT.matcher(line);
            if (m.find()) {
                end[0] = endOf(Lsn.parse(m.group(2)), Long.parseLong(m.group(1)), segmentSizeBytes, walBlockBytes);
            }
        });
        return Optional.ofNullable(end[0]);
    }

    /**
     * The end of a record of {@code totalBytes} at {@code start}: its bytes laid out across WAL
     * pages, each beginning with a page header (the long one at a segment's start), the end
     * rounded up to 8 bytes, where the next record would begin.
     */
    static Lsn endOf(Lsn start, long totalBytes, long segmentSizeBytes, int walBlockBytes) {
        long at = start.value();
        long left = totalBytes;
        while (left > 0) {
            long inPage = Long.remainderUnsigned(at, walBlockBytes);
            if (inPage == 0) {
                at += Long.remainderUnsigned(at, segmentSizeBytes) == 0 ? LONG_PAGE_HEADER_BYTES : SHORT_PAGE_HEADER_BYTES;
                continue;
            }
            long take = Math.min(walBlockBytes - inPage, left);
            at += take;
            left -= take;
        }
        return new Lsn((at + MAX_ALIGN - 1) & -MAX_ALIGN);
    }

    /**
     * Runs pg_waldump with {@code args}, each line of its output to {@code lines}. Its ending at
     * the end of the readable WAL is normal; with {@code toEnd} (no end LSN given), so is its
     * running out of segment files, and so is its not finding {@code missingAtEnd}.
     */
    private void run(List<String> args, Path walDir, boolean toEnd, String missingAtEnd, Consumer<String> lines) throws IOException {
        List<String> command = new ArrayList<>(List.of(executable.toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("TZ", "UTC");
        pb.environment().put("LC_ALL", "C");
        Process process = pb.start();
        StderrTail stderr = new StderrTail(process.getErrorStream());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                lines.accept(line);
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
        boolean endOfRun = (toEnd && err.contains("could not find file"))
                || (missingAtEnd != null && err.contains("could not find file \"" + missingAtEnd + "\""));
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
