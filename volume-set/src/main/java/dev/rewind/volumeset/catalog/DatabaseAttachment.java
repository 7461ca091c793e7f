package dev.rewind.volumeset.catalog;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The database a set holds, as {@code rewind db attach} recorded it. No password: only where
 * to read it, a file ({@code passwordFile}, owner-only) or an environment variable of the
 * process that connects ({@code passwordEnv}); both null means no password.
 *
 * @param engine           {@code postgresql}, {@code mariadb} or {@code h2}, from the JDBC URL
 * @param stopCommand      a shell command that stops the database and releases the volumes, or null
 * @param startCommand     a shell command that mounts the volumes and starts the database, or null
 * @param validations      queries run in order after a coordinated restore
 * @param mounts           member name to the directory where that member's file system is mounted
 * @param consistentEvery  how often the daemon takes a consistent bookmark, or null for never
 * @param sampleEvery      how often the daemon samples the database's position against the seq
 */
public record DatabaseAttachment(String setName, String engine, String jdbcUrl, String user, String passwordFile,
        String passwordEnv, String stopCommand, String startCommand, List<String> validations, Map<String, String> mounts,
        Duration consistentEvery, Duration sampleEvery, long attachedAtMicros) {

    public DatabaseAttachment {
        validations = List.copyOf(validations);
        mounts = Map.copyOf(mounts);
    }
}
