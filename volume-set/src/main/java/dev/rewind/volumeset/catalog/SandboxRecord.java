package dev.rewind.volumeset.catalog;

/**
 * A sandbox as the catalog records it: set {@code setName} opened writable at {@code seq},
 * its overlay in {@code dir}.
 *
 * @param point         the point as the user gave it ({@code 1234}, {@code bookmark:NAME}, {@code time:ISO})
 * @param databasePort  the port of the private database started on it, or null when none runs
 * @param databasePid   that database server's process id, or null
 */
public record SandboxRecord(String setName, String name, long seq, String point, long createdAtMicros, String dir,
        Integer databasePort, Long databasePid) {

    /** The same sandbox with its database started ({@code port}, {@code pid}) or stopped (both null). */
    public SandboxRecord withDatabase(Integer port, Long pid) {
        return new SandboxRecord(setName, name, seq, point, createdAtMicros, dir, port, pid);
    }
}
