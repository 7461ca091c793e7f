package dev.rewind.cli.daemon;

import dev.rewind.volumeset.io.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a running {@code rewind serve} is found: {@code daemon.json} in the data dir (pid, the
 * control socket, the NBD socket and TCP address) and {@code daemon.token} (mode 0600, the
 * owner's alone even with the data dir's group: it lets its holder run any command), the
 * secret every control request must carry. Both are written atomically and removed at a
 * clean stop.
 */
public final class DaemonFiles {
    static final String INFO_FILE = "daemon.json";
    static final String TOKEN_FILE = "daemon.token";

    /** What daemon.json says. */
    public record Info(long pid, String controlSocket, String nbdSocket, String nbdAddress) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pid", pid);
            m.put("controlSocket", controlSocket);
            m.put("nbdSocket", nbdSocket);
            m.put("nbdAddress", nbdAddress);
            return m;
        }

        static Info fromJson(String json) {
            Map<String, Object> m = ControlJson.parseObject(json);
            return new Info((Long) m.get("pid"), (String) m.get("controlSocket"), (String) m.get("nbdSocket"),
                    (String) m.get("nbdAddress"));
        }
    }

    private DaemonFiles() {
    }

    static String newToken() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static void write(Path dataDir, Info info, String token) throws IOException {
        Path tokenTmp = dataDir.resolve(TOKEN_FILE + ".tmp");
        Files.deleteIfExists(tokenTmp);
        Files.createFile(tokenTmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokenTmp, token, StandardCharsets.UTF_8);
        Files.move(tokenTmp, dataDir.resolve(TOKEN_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Path infoTmp = dataDir.resolve(INFO_FILE + ".tmp");
        Files.deleteIfExists(infoTmp);
        PrivateFiles.createFile(infoTmp);
        Files.writeString(infoTmp, ControlJson.writeObject(info.toJson()), StandardCharsets.UTF_8);
        Files.move(infoTmp, dataDir.resolve(INFO_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void remove(Path dataDir) {
        try {
            Files.deleteIfExists(dataDir.resolve(INFO_FILE));
            Files.deleteIfExists(dataDir.resolve(TOKEN_FILE));
        } catch (IOException ignored) {
            // a stale file is recognised by its dead pid
        }
    }

    /** The daemon of this data dir, if its files are there and its process is alive. */
    static java.util.Optional<Info> readLive(Path dataDir) {
        Path file = dataDir.resolve(INFO_FILE);
        if (!Files.exists(file)) {
            return java.util.Optional.empty();
        }
        try {
            Info info = Info.fromJson(Files.readString(file, StandardCharsets.UTF_8));
            boolean alive = ProcessHandle.of(info.pid()).map(ProcessHandle::isAlive).orElse(false);
            return alive && info.pid() != ProcessHandle.current().pid() ? java.util.Optional.of(info) : java.util.Optional.empty();
        } catch (IOException | RuntimeException e) { // unreadable or half-written: no usable daemon
            return java.util.Optional.empty();
        }
    }

    static String readToken(Path dataDir) throws IOException {
        return Files.readString(dataDir.resolve(TOKEN_FILE), StandardCharsets.UTF_8).trim();
    }
}
