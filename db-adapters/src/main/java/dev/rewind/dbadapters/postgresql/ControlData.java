package dev.rewind.dbadapters.postgresql;

import dev.rewind.volumeset.RewindException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What {@code pg_controldata} reads from a data directory's {@code global/pg_control}, the
 * parts that say how to read its WAL without the server: the latest checkpoint's location (a
 * record that is surely there) and timeline, the WAL segment and page sizes, and the
 * {@code wal_level}. Run with {@code LC_ALL=C}, so the labels are the English ones:
 *
 * <pre>
 * Latest checkpoint location:           0/1516BE8
 * Latest checkpoint's TimeLineID:       1
 * wal_level setting:                    replica
 * WAL block size:                       8192
 * Bytes per WAL segment:                16777216
 * </pre>
 */
record ControlData(Lsn checkpoint, int timeline, long segmentSizeBytes, int walBlockBytes, String walLevel) {
    static final String CHECKPOINT = "Latest checkpoint location";
    static final String TIMELINE = "Latest checkpoint's TimeLineID";
    static final String WAL_LEVEL = "wal_level setting";
    static final String WAL_BLOCK_SIZE = "WAL block size";
    static final String SEGMENT_SIZE = "Bytes per WAL segment";
    private static final long TIMEOUT_SECONDS = 60;

    /** Runs {@code pg_controldata} (beside {@code pg_waldump}) on {@code dataDir}. */
    static ControlData read(WalDump dump, Path dataDir) throws IOException {
        Path tool = dump.executable().resolveSibling("pg_controldata");
        if (!Files.isExecutable(tool)) {
            throw new RewindException("pg_controldata not found beside " + dump.executable() + "; install the PostgreSQL server package "
                    + "of the database's version on this host");
        }
        ProcessBuilder pb = new ProcessBuilder(tool.toString(), "-D", dataDir.toString()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(tool + " -D " + dataDir + " failed: " + text.lines().filter(l -> !l.isBlank()).findFirst().orElse(""));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + tool);
        }
        return parse(text, dataDir);
    }

    /** The fields of pg_controldata's output {@code text}; an IOException naming the missing label. */
    static ControlData parse(String text, Path dataDir) throws IOException {
        Map<String, String> fields = new HashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            }
        }
        try {
            return new ControlData(Lsn.parse(field(fields, CHECKPOINT, dataDir)), Integer.parseInt(field(fields, TIMELINE, dataDir)),
                    Long.parseLong(field(fields, SEGMENT_SIZE, dataDir)), Integer.parseInt(field(fields, WAL_BLOCK_SIZE, dataDir)),
                    field(fields, WAL_LEVEL, dataDir));
        } catch (NumberFormatException e) {
            throw new IOException("pg_controldata of " + dataDir + " printed a number Rewind cannot read: " + e.getMessage());
        }
    }

    private static String field(Map<String, String> fields, String label, Path dataDir) throws IOException {
        String v = fields.get(label);
        if (v == null || v.isEmpty()) {
            throw new IOException("pg_controldata of " + dataDir + " did not print '" + label + "'");
        }
        return v;
    }
}
