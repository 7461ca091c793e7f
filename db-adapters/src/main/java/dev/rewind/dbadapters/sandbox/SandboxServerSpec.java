package dev.rewind.dbadapters.sandbox;

import java.nio.file.Path;
import java.util.Map;

/**
 * What starting a private copy of a database on a sandbox needs.
 *
 * @param settings what the production server said of itself ({@link dev.rewind.dbadapters.api.DatabaseAdapter#serverSettings()})
 * @param mounts   production's member mounts and the sandbox's
 * @param workDir  the sandbox database's own directory (sockets, pid file, log)
 * @param port     the loopback port it listens on
 */
public record SandboxServerSpec(Map<String, String> settings, MountMap mounts, Path workDir, int port) {

    public SandboxServerSpec {
        settings = Map.copyOf(settings);
    }

    /** A setting the server must have reported; a RewindException saying to attach again when it did not. */
    String required(String name) {
        String v = settings.get(name);
        if (v == null || v.isBlank()) {
            throw new dev.rewind.volumeset.RewindException("the database's recorded server settings lack " + name
                    + "; run rewind db attach again while the database runs");
        }
        return v;
    }
}
