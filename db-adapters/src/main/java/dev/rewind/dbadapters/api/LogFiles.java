package dev.rewind.dbadapters.api;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;

/**
 * The database's files read without its server: where each member's file system is mounted
 * in production (as {@code rewind db attach --mount} recorded it) and where it can be read
 * here now (the same dir, a dir the user named with {@code --mount}, or a read-only view of
 * the set's newest point); the server's settings recorded while it ran (its data directory,
 * binlog basename, ...); and one line saying where the log is read from, for the user.
 *
 * @param production     member name to its production mount dir
 * @param readable       member name to where its file system can be read now
 * @param serverSettings what {@link DatabaseAdapter#serverSettings()} returned while the server ran
 * @param source         e.g. {@code the mounted data dir /srv/pg (server not running)}
 */
public record LogFiles(Map<String, Path> production, Map<String, Path> readable, Map<String, String> serverSettings, String source) {

    public LogFiles {
        production = Map.copyOf(production);
        readable = Map.copyOf(readable);
        serverSettings = Map.copyOf(serverSettings);
    }

    /**
     * Where production path {@code path} can be read now: the same relative path under the
     * readable mount of the member whose production mount holds it (the deepest when mounts
     * nest); {@code path} itself when no member's mount holds it.
     */
    public Path here(Path path) {
        Path p = path.toAbsolutePath().normalize();
        return production.entrySet().stream()
                .filter(e -> readable.containsKey(e.getKey()) && p.startsWith(e.getValue()))
                .max(Comparator.comparingInt(e -> e.getValue().getNameCount()))
                .map(e -> readable.get(e.getKey()).resolve(e.getValue().relativize(p).toString()))
                .orElse(p);
    }

    /** The recorded setting {@code name}, or a RewindException saying how to record it. */
    public String setting(String name) {
        return Optional.ofNullable(serverSettings.get(name)).orElseThrow(() -> new dev.rewind.volumeset.RewindException(
                "the database's " + name + " was not recorded while it ran; start the database, or attach it again while it runs"));
    }

    /** Member name to readable dir, as text: the mounts {@code locate}'s files are on. */
    public Map<String, String> readableMounts() {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        readable.forEach((m, dir) -> out.put(m, dir.toString()));
        return out;
    }
}
