package dev.rewind.dbadapters.volumefs;

import dev.rewind.capture.CapturedSet;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;

/**
 * An embedded H2 database whose file lives on one member of a captured set: the member is
 * mounted as {@code rewind:<set>-<member>} and H2 keeps {@code <databaseName>.mv.db} there.
 * Closing this handle unmounts the member; close the database first.
 *
 * <pre>{@code
 * try (CapturedSet set = ...; H2OnSet db = H2OnSet.mount(set, "m0", "bank");
 *      Connection c = DriverManager.getConnection(db.jdbcUrl())) {
 *     c.createStatement().execute("CREATE TABLE account(id INT PRIMARY KEY, balance INT)");
 * }
 * }</pre>
 *
 * <p>H2 2.x keeps a database in a single {@code .mv.db} file, so one member is enough; a
 * device holds one file, and any other file H2 tries to create there fails with an error
 * naming the device. {@link #jdbcUrl()} therefore carries {@link #URL_SETTINGS} (checked
 * against H2 2.3.232):
 * <ul>
 *   <li>{@code TRACE_LEVEL_FILE=0}: necessary. Otherwise the first SQL error makes H2 open
 *       {@code <db>.trace.db}, which the device refuses.</li>
 *   <li>{@code FILE_LOCK=NO}: no lock of H2's own. The default ({@code FS}) only locks the
 *       channel, which this file system grants, and {@code FILE_LOCK=FILE} would need a
 *       {@code .lock.db} file; the set's own lock keeps other processes off the devices.</li>
 * </ul>
 * A normal close compacts the file in place (for up to {@code MAX_COMPACT_TIME}, default
 * 200 ms) and creates no other file, so no compaction setting is needed. Do not use
 * {@code SHUTDOWN COMPACT} or {@code SHUTDOWN DEFRAG}: they need a second file
 * ({@code <db>.mv.db.tempFile}); when it cannot be created, H2 closes the store at once,
 * uncompacted. Large temporary results go to {@code java.io.tmpdir} on the local disk.
 * More settings may be appended to the URL, each starting with {@code ;}.
 */
public final class H2OnSet implements AutoCloseable {
    /** The settings every database on a device needs, as a JDBC URL suffix. */
    public static final String URL_SETTINGS = ";FILE_LOCK=NO;TRACE_LEVEL_FILE=0;WRITE_DELAY=0";

    private final String mountName;
    private final String databaseName;

    private H2OnSet(String mountName, String databaseName) {
        this.mountName = mountName;
        this.databaseName = databaseName;
    }

    /**
     * Mounts {@code memberName} of {@code set} as {@link #mountName(String, String)} for a
     * database called {@code databaseName} (the file is {@code <databaseName>.mv.db}).
     */
    public static H2OnSet mount(CapturedSet set, String memberName, String databaseName) throws IOException {
        if (!databaseName.matches("[A-Za-z0-9._-]+")) {
            throw new RewindException("database name '" + databaseName + "' must be letters, digits, '.', '_' or '-'");
        }
        String mountName = mountName(set.name(), memberName);
        VolumeFileSystem.mount(mountName, set.device(memberName));
        return new H2OnSet(mountName, databaseName);
    }

    /** {@code <set>-<member>}, with any character a mount name cannot hold replaced by '-'. */
    public static String mountName(String setName, String memberName) {
        return (setName + "-" + memberName).replaceAll("[^A-Za-z0-9._-]", "-");
    }

    public String mountName() {
        return mountName;
    }

    /** H2's name for the database, without {@code jdbc:h2:} and settings: {@code rewind:<mount>/<databaseName>}. */
    public String databasePath() {
        return VolumeFileSystem.pathOf(mountName, databaseName);
    }

    /** {@code jdbc:h2:rewind:<mount>/<databaseName>} with {@link #URL_SETTINGS}. */
    public String jdbcUrl() {
        return "jdbc:h2:" + databasePath() + URL_SETTINGS;
    }

    /** Unmounts the member; the database must be closed. */
    @Override
    public void close() {
        VolumeFileSystem.unmount(mountName);
    }
}
