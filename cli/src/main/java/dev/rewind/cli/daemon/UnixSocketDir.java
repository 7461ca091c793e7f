package dev.rewind.cli.daemon;

import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.io.PrivateFiles;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * The directory where {@code rewind serve} puts its Unix sockets (the data dir, or
 * {@code --socket-dir}), checked before anything starts: each socket's path must fit the
 * {@value #MAX_PATH_BYTES} bytes of {@code sun_path}, the directory's file system must be able
 * to hold a socket, and no other daemon may be listening there. Each refusal is one line that
 * names {@code --socket-dir}, instead of the bare "Unix domain path too long" or "Function not
 * implemented" of the bind.
 */
public final class UnixSocketDir {
    /** The longest path of a Unix socket on Linux: sun_path's 108 bytes less the terminating NUL. */
    public static final int MAX_PATH_BYTES = 107;
    private static final String PROBE = ".socket-probe";

    private UnixSocketDir() {
    }

    /**
     * Refuses {@code dir} for {@code sockets} unless each fits and can be bound there;
     * {@code chosen} says whether the user named it with --socket-dir (else it is the data
     * dir). Creates a chosen directory that is missing, owner-only.
     */
    public static void require(Path dir, boolean chosen, List<String> sockets) throws IOException {
        String what = chosen ? "--socket-dir " + dir : "the data dir " + dir;
        String remedy = chosen ? "choose a shorter --socket-dir on a local file system, e.g. /run/rewind/NAME"
                : "serve with --socket-dir DIR, a short directory on a local file system (e.g. /run/rewind/NAME)";
        for (String name : sockets) {
            Path socket = dir.resolve(name).toAbsolutePath();
            int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_PATH_BYTES) {
                throw new RewindException("the Unix socket " + socket + " would be " + bytes + " bytes long, more than the "
                        + MAX_PATH_BYTES + " a socket path may have: " + remedy);
            }
        }
        if (chosen) {
            PrivateFiles.createDirectories(dir);
        }
        for (String name : sockets) {
            Path socket = dir.resolve(name);
            if (answers(socket)) {
                throw new RewindException("another process listens on " + socket + ": give each data dir its own --socket-dir");
            }
        }
        Path probe = dir.resolve(PROBE);
        Files.deleteIfExists(probe);
        try (ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.bind(UnixDomainSocketAddress.of(probe));
        } catch (IOException | UnsupportedOperationException e) {
            throw new RewindException("the file system of " + what + " cannot hold a Unix socket (" + e.getMessage() + "): " + remedy);
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    /** Whether a live server accepts connections on {@code socket}; a stale socket file of a server that is gone does not. */
    private static boolean answers(Path socket) {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS) || Files.isRegularFile(socket, LinkOption.NOFOLLOW_LINKS)
                || Files.isDirectory(socket, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
