package dev.rewind.cli.db;

import dev.rewind.cli.nbd.RewindServe;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** What the sandbox database tests compare before and after: the set's last seq (its journal) and a hash of its primary. */
final class SandboxChecks {
    private SandboxChecks() {
    }

    /** The set's last seq, from {@code rewind status --json}. */
    static long lastSeq(RewindServe serve) {
        return serve.status().get("lastSeq").asLong();
    }

    /** SHA-256 of a file (the PV image that holds every member's primary). */
    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
