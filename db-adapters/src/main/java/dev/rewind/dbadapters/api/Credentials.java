package dev.rewind.dbadapters.api;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;

/**
 * Where a database password comes from: a file readable by its owner only (its first line),
 * or an environment variable of the process that connects. Never from the command line,
 * never logged. Both null: no password.
 */
public record Credentials(String user, Path passwordFile, String passwordEnv) {

    /** Reads the password now; null when none is configured. */
    public String password() {
        return password(System.getenv());
    }

    /** Reads the password with {@code env} as the environment (for tests). */
    public String password(Map<String, String> env) {
        if (passwordFile != null) {
            try {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(passwordFile);
                if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                    throw new RewindException("password file " + passwordFile + " can be read by others; run: chmod 600 " + passwordFile);
                }
                String text = Files.readString(passwordFile, StandardCharsets.UTF_8);
                return text.lines().findFirst().orElse("");
            } catch (IOException e) {
                throw new RewindException("cannot read password file " + passwordFile + ": " + e.getMessage());
            }
        }
        if (passwordEnv != null) {
            String value = env.get(passwordEnv);
            if (value == null) {
                throw new RewindException("environment variable " + passwordEnv + " (the database password) is not set in the process "
                        + "that connects; set it where rewind runs (for scheduled work: where rewind serve runs)");
            }
            return value;
        }
        return null;
    }
}
