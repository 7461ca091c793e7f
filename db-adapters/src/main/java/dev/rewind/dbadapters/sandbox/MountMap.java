package dev.rewind.dbadapters.sandbox;

import dev.rewind.volumeset.RewindException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where production's files are on a sandbox: each member's production mount dir (as {@code
 * rewind db attach --mount} recorded it) and the sandbox's mount of the same member. A path
 * under a production mount maps to the same relative path under the sandbox's mount; the
 * deepest mount wins when mounts nest.
 *
 * @param production member name to its production mount dir
 * @param sandbox    member name to the sandbox's mount of it
 */
public record MountMap(Map<String, Path> production, Map<String, Path> sandbox) {

    public MountMap {
        production = Map.copyOf(production);
        sandbox = Map.copyOf(sandbox);
    }

    /** From the attachment's mounts (member to dir, as text) and the sandbox's mounts. */
    public static MountMap of(Map<String, String> productionMounts, Map<String, Path> sandboxMounts) {
        Map<String, Path> p = new LinkedHashMap<>();
        productionMounts.forEach((member, dir) -> p.put(member, Path.of(dir).toAbsolutePath().normalize()));
        return new MountMap(p, sandboxMounts);
    }

    /** The sandbox's path of production path {@code path}, or empty when no member's mount holds it. */
    public Optional<Path> find(Path path) {
        Path p = path.toAbsolutePath().normalize();
        return production.entrySet().stream()
                .filter(e -> sandbox.containsKey(e.getKey()) && p.startsWith(e.getValue()))
                .max(Comparator.comparingInt(e -> e.getValue().getNameCount()))
                .map(e -> sandbox.get(e.getKey()).resolve(e.getValue().relativize(p).toString()));
    }

    /** {@link #find}, or a RewindException naming what it is ({@code what}) and how to attach the mounts. */
    public Path map(String what, Path path) {
        return find(path).orElseThrow(() -> new RewindException("the database's " + what + " " + path
                + " is on no member's mount" + (production.isEmpty() ? " (the attachment has no --mount)" : " " + production.values())
                + "; attach again with --mount MEMBER=DIR for the member that holds it"));
    }

    /** Whether {@code path} is already on one of the sandbox's mounts (fixed at an earlier start). */
    public boolean isOnSandbox(Path path) {
        Path p = path.toAbsolutePath().normalize();
        return sandbox.values().stream().anyMatch(p::startsWith);
    }

    /** {@link #find}, or {@code path} itself when no member holds it (a file outside the set, e.g. /etc/postgresql/...). */
    public Path mapOrKeep(Path path) {
        return find(path).orElse(path);
    }
}
