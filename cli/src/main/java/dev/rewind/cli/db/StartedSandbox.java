package dev.rewind.cli.db;

import java.nio.file.Path;

/**
 * A database started on a sandbox by {@link SandboxDatabases}: its engine, loopback port,
 * server pid, JDBC URL (production's, on {@code 127.0.0.1:port}), work dir and server log.
 */
public record StartedSandbox(String setName, String sandboxName, String engine, int port, long pid,
                             String jdbcUrl, Path workDir, Path logFile) {
}
