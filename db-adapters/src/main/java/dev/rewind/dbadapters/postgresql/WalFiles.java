package dev.rewind.dbadapters.postgresql;

import dev.rewind.dbadapters.api.LogFiles;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@link PostgresAdapter.WalServer} of a data directory read from its files, for when the
 * server does not answer: the data directory the server reported while it ran, where it can
 * be read now ({@link LogFiles#here}); its WAL in {@code pg_wal}, following a symlink the way
 * the server would (an absolute target is a production path, read where its member is
 * readable now); timeline, segment and page size from {@code pg_controldata}; the major
 * version from {@code PG_VERSION}; and, instead of a flush LSN, the end of the valid records
 * pg_waldump reads from the latest checkpoint on.
 */
final class WalFiles {
    static final String DATA_DIRECTORY = "data_directory";

    private WalFiles() {
    }

    static PostgresAdapter.WalServer read(LogFiles files) throws IOException {
        Path dataDir = files.here(Path.of(files.setting(DATA_DIRECTORY)));
        Path version = dataDir.resolve("PG_VERSION");
        if (!Files.isRegularFile(version)) {
            throw new RewindException("no PostgreSQL data directory at " + dataDir + " (" + files.source() + ": no PG_VERSION there); "
                    + "start the database, or pass --mount DIR where the member that holds " + files.setting(DATA_DIRECTORY) + " is mounted");
        }
        int major = majorVersion(Files.readString(version, StandardCharsets.US_ASCII), version);
        Path walDir = walDirectory(dataDir, files);
        WalDump dump = WalDump.require(major);
        ControlData control = ControlData.read(dump, dataDir);
        Lsn end = dump.endOfValidRecords(walDir, control.timeline(), control.checkpoint(), control.segmentSizeBytes(),
                control.walBlockBytes()).orElseThrow(() -> new RewindException("pg_waldump reads no WAL record in " + walDir
                + " from the latest checkpoint " + control.checkpoint() + " on; the WAL there is not the data directory's"));
        return new PostgresAdapter.WalServer(walDir, control.timeline(), control.segmentSizeBytes(), end, major,
                "logical".equals(control.walLevel()));
    }

    /** {@code 15} from PG_VERSION's {@code 15\n} (and {@code 9} from {@code 9.6}). */
    static int majorVersion(String text, Path file) {
        String t = text.strip();
        int dot = t.indexOf('.');
        try {
            return Integer.parseInt(dot < 0 ? t : t.substring(0, dot));
        } catch (NumberFormatException e) {
            throw new RewindException(file + " says '" + t + "', not a PostgreSQL version");
        }
    }

    /** {@code dataDir/pg_wal}, or where its symlink points: relative to the data dir, or a production path read where it is readable now. */
    static Path walDirectory(Path dataDir, LogFiles files) throws IOException {
        Path wal = dataDir.resolve("pg_wal");
        Path dir = wal;
        if (Files.isSymbolicLink(wal)) {
            Path target = Files.readSymbolicLink(wal);
            dir = target.isAbsolute() ? files.here(target) : dataDir.resolve(target).normalize();
        }
        if (!Files.isDirectory(dir)) {
            throw new RewindException("the WAL directory " + dir + (dir.equals(wal) ? "" : " (where " + wal + " points)")
                    + " is not readable here (" + files.source() + "); mount the member that holds it, or start the database");
        }
        return dir;
    }
}
