package dev.rewind.dbadapters.postgresql;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Feeds {@code pg_waldump} the WAL there is to search: the server's {@code pg_wal} and, when
 * given, a directory of archived segments (WAL the server has recycled since). pg_waldump
 * reads one directory, so the segments of both are linked into a temporary one, each name
 * once ({@link WalSegments#segmentsOf(Path, Path, int)}); a segment missing from both ends a
 * run of consecutive segments, and each run is read on its own, in order, into the same
 * consumer (a transaction in flight across a gap loses what it did before it).
 */
final class WalRuns {
    private WalRuns() {
    }

    /**
     * Reads the WAL of {@code timeline} up to {@code end} into {@code records}; the LSN the
     * oldest segment read starts at, or empty when there is no segment.
     */
    static Optional<Lsn> read(WalDump dump, Path walDir, Path archive, int timeline, long segmentSizeBytes, Lsn end,
            Consumer<WalRecord> records) throws IOException {
        if (archive == null) {
            List<String> segments = list(walDir, timeline);
            if (segments.isEmpty()) {
                return Optional.empty();
            }
            Lsn start = WalSegments.startOf(segments.get(0), segmentSizeBytes);
            dump.read(walDir, timeline, start, end, records);
            return Optional.of(start);
        }
        NavigableMap<String, Path> segments;
        try {
            segments = WalSegments.segmentsOf(walDir, archive, timeline);
        } catch (IOException e) {
            throw new RewindException("cannot list the WAL directory " + walDir + " or the archive " + archive + " (" + e.getMessage()
                    + "); give --archive a directory of archived WAL segments this user can read");
        }
        if (segments.isEmpty()) {
            return Optional.empty();
        }
        Path linked = Files.createTempDirectory("rewind-wal-");
        try {
            for (var s : segments.entrySet()) {
                Files.createSymbolicLink(linked.resolve(s.getKey()), s.getValue().toAbsolutePath());
            }
            for (List<String> run : WalSegments.consecutiveRuns(segments.keySet(), segmentSizeBytes)) {
                Lsn runStart = WalSegments.startOf(run.get(0), segmentSizeBytes);
                long next = WalSegments.segmentNumber(run.get(run.size() - 1), segmentSizeBytes) + 1;
                Lsn runEnd = new Lsn(Math.min(end.value(), next * segmentSizeBytes));
                if (runStart.compareTo(runEnd) < 0) {
                    dump.read(linked, timeline, runStart, runEnd, records, WalSegments.fileName(timeline, next, segmentSizeBytes));
                }
            }
        } finally {
            try (Stream<Path> files = Files.walk(linked)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        return Optional.of(WalSegments.startOf(segments.firstKey(), segmentSizeBytes));
    }

    private static List<String> list(Path walDir, int timeline) {
        try {
            return WalSegments.segmentsOf(walDir, timeline);
        } catch (IOException e) {
            throw new RewindException("cannot list the WAL directory " + walDir + " (" + e.getMessage()
                    + "); run db find on the database's host as a user that can read it");
        }
    }
}
