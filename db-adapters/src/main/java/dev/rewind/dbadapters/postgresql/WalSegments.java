package dev.rewind.dbadapters.postgresql;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The names of WAL segment files in {@code pg_wal}: 24 hex digits, the timeline, then the
 * segment number split in two at 2^32 bytes of WAL ({@code segmentsPerXLogId} segments each).
 *
 * <pre>
 *   000000010000000300000A2   (wrapped for reading; really 24 digits)
 *   TTTTTTTT XXXXXXXX YYYYYYYY
 *   timeline high      low:    segno = high * (2^32 / segmentSizeBytes) + low
 *                              the segment holds LSNs [segno * size, (segno + 1) * size)
 * </pre>
 */
final class WalSegments {
    private static final Pattern SEGMENT_NAME = Pattern.compile("[0-9A-F]{24}");

    private WalSegments() {
    }

    static boolean isSegmentName(String name) {
        return SEGMENT_NAME.matcher(name).matches();
    }

    static int timelineOf(String fileName) {
        return (int) Long.parseLong(fileName.substring(0, 8), 16);
    }

    static long segmentNumber(String fileName, long segmentSizeBytes) {
        long high = Long.parseLong(fileName.substring(8, 16), 16);
        long low = Long.parseLong(fileName.substring(16, 24), 16);
        return high * segmentsPerXLogId(segmentSizeBytes) + low;
    }

    static String fileName(int timeline, long segmentNumber, long segmentSizeBytes) {
        long perId = segmentsPerXLogId(segmentSizeBytes);
        return String.format(Locale.ROOT, "%08X%08X%08X", timeline, segmentNumber / perId, segmentNumber % perId);
    }

    /** The LSN at which the segment named {@code fileName} begins. */
    static Lsn startOf(String fileName, long segmentSizeBytes) {
        return new Lsn(segmentNumber(fileName, segmentSizeBytes) * segmentSizeBytes);
    }

    /** The segment files of {@code timeline} in {@code walDir}, oldest first. */
    static List<String> segmentsOf(Path walDir, int timeline) throws IOException {
        try (Stream<Path> files = Files.list(walDir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> isSegmentName(n) && timelineOf(n) == timeline)
                    .sorted()
                    .toList();
        }
    }

    /**
     * The segment files of {@code timeline} in {@code walDir} and in {@code archive} (a
     * directory of archived segments, as {@code archive_command} copies them), by name oldest
     * first, each once: where both have a segment, {@code walDir}'s copy (the same segment,
     * or the one still being written).
     */
    static NavigableMap<String, Path> segmentsOf(Path walDir, Path archive, int timeline) throws IOException {
        NavigableMap<String, Path> segments = new TreeMap<>();
        for (String name : segmentsOf(archive, timeline)) {
            segments.put(name, archive.resolve(name));
        }
        for (String name : segmentsOf(walDir, timeline)) {
            segments.put(name, walDir.resolve(name));
        }
        return segments;
    }

    /** {@code names} (sorted, of one timeline) cut into runs of consecutive segments: a missing segment ends a run. */
    static List<List<String>> consecutiveRuns(Collection<String> names, long segmentSizeBytes) {
        List<List<String>> runs = new ArrayList<>();
        List<String> run = new ArrayList<>();
        long previous = -2;
        for (String name : names) {
            long segno = segmentNumber(name, segmentSizeBytes);
            if (segno != previous + 1 && !run.isEmpty()) {
                runs.add(List.copyOf(run));
                run.clear();
            }
            run.add(name);
            previous = segno;
        }
        if (!run.isEmpty()) {
            runs.add(List.copyOf(run));
        }
        return runs;
    }

    private static long segmentsPerXLogId(long segmentSizeBytes) {
        return 0x1_0000_0000L / segmentSizeBytes;
    }
}
