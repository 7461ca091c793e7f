package dev.rewind.capture.nbd;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Who is on the other end of a Unix socket connection ({@code SO_PEERCRED}, which the kernel
 * fills in and the client cannot forge), compared with the socket's owner: the user the server
 * runs as. The owner and root may write; anyone else the socket's mode lets in (its group)
 * may only read.
 */
public final class PeerCredentials {
    private PeerCredentials() {
    }

    /**
     * Who the peer of a Unix socket connection is, for a log line or a list of clients:
     * {@code user NAME, group NAME} from {@code SO_PEERCRED}; {@code unknown user} when the
     * kernel does not say (not a Unix socket, or the connection is gone).
     */
    public static String describe(SocketChannel channel) {
        try {
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            return "user " + peer.user().getName() + ", group " + peer.group().getName();
        } catch (IOException | UnsupportedOperationException e) {
            return "unknown user";
        }
    }

    /** True if the peer of {@code channel} is the owner of {@code socket} or root; false when unsure. */
    static boolean isOwnerOrRoot(SocketChannel channel, Path socket) {
        try {
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            UserPrincipal owner = Files.getOwner(socket, LinkOption.NOFOLLOW_LINKS);
            return peer.user().equals(owner) || "root".equals(peer.user().getName());
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
