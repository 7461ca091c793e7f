package dev.rewind.capture.nbd;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections one listening socket may hold: at most {@code limit} open, and on TCP at
 * most {@code perPeerLimit} from one peer address, so that neither one flooding host nor a
 * flood on one listener (TCP) locks out the clients of another (the Unix socket of the
 * database's own host has a budget of its own).
 *
 * <p>A connection that arrives at a limit takes the place of the oldest connection still
 * negotiating (of its own peer when the peer is at its share, of anyone when the listener is
 * full); only when every connection in the way is in transmission is the new one refused. A
 * client that has finished negotiating keeps its place; one that has not can be anyone's.
 *
 * <p>Refusals and evictions are logged once per {@link #LOG_INTERVAL}, with their counts,
 * never one line per connection: a flood must not fill the log.
 */
final class ConnectionBudget {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionBudget.class);
    /** How often at most a line about refused or evicted connections is logged. */
    static final Duration LOG_INTERVAL = Duration.ofSeconds(10);

    /** What became of a new connection: admitted (after closing {@code evicted}, if any) or refused. */
    record Admission(boolean admitted, NbdConnection evicted) {
    }

    private final String listener;
    private final int limit;
    private final int perPeerLimit;
    /** Open connections in the order they were accepted: the first one negotiating is the oldest. */
    private final LinkedHashSet<NbdConnection> open = new LinkedHashSet<>();
    private final Map<InetAddress, Integer> perPeer = new HashMap<>();
    private long refusedSinceLog;
    private long evictedSinceLog;
    private long timedOutSinceLog;
    private String lastPeer;
    private long lastLogNanos = System.nanoTime() - LOG_INTERVAL.toNanos();

    /** {@code perPeerLimit} applies to TCP peers; it is capped at {@code limit}. */
    ConnectionBudget(String listener, int limit, int perPeerLimit) {
        this.listener = listener;
        this.limit = limit;
        this.perPeerLimit = Math.min(limit, perPeerLimit);
    }

    /**
     * Takes a place for {@code connection} from {@code peer} (null on a Unix socket), closing
     * the oldest negotiating connection in its way if there is one; refused when every
     * connection in the way is in transmission.
     */
    Admission admit(NbdConnection connection, InetAddress peer, long nowNanos) {
        NbdConnection evicted = null;
        synchronized (this) {
            boolean peerFull = peer != null && perPeer.getOrDefault(peer, 0) >= perPeerLimit;
            if (peerFull || open.size() >= limit) {
                lastPeer = connection.peer();
                evicted = oldestNegotiating(peerFull ? peer : null);
                if (evicted == null) {
                    refusedSinceLog++;
                    logIfDue(nowNanos);
                    return new Admission(false, null);
                }
                remove(evicted);
                evictedSinceLog++;
                logIfDue(nowNanos);
            }
            open.add(connection);
            if (peer != null) {
                perPeer.merge(peer, 1, Integer::sum);
            }
        }
        return new Admission(true, evicted);
    }

    /** Gives back the place of a connection that has ended (or was evicted); idempotent. */
    synchronized void release(NbdConnection connection) {
        remove(connection);
    }

    /** Counts a connection closed because it had not finished negotiating in time (it is logged with the next line). */
    synchronized void timedOut(NbdConnection connection) {
        timedOutSinceLog++;
        lastPeer = connection.peer();
    }

    /** Logs what was refused, evicted or timed out since the last line, if a line is due. Called by the server's watchdog too. */
    synchronized void logIfDue(long nowNanos) {
        if (nowNanos - lastLogNanos >= LOG_INTERVAL.toNanos()) {
            logPending(nowNanos);
        }
    }

    /** Logs what was refused, evicted or timed out since the last line, if anything was; called at the server's close. */
    synchronized void logPending(long nowNanos) {
        if (refusedSinceLog + evictedSinceLog + timedOutSinceLog == 0) {
            return;
        }
        if (refusedSinceLog + evictedSinceLog == 0) {
            LOG.info("nbd server on {}: closed {} connection(s) that did not finish negotiating in time; the last from {}",
                    listener, timedOutSinceLog, lastPeer);
            timedOutSinceLog = 0;
            lastLogNanos = nowNanos;
            return;
        }
        List<String> what = new ArrayList<>();
        if (evictedSinceLog > 0) {
            what.add("closed " + evictedSinceLog + " connection(s) still negotiating to make room for new ones");
        }
        if (refusedSinceLog > 0) {
            what.add("refused " + refusedSinceLog + " new connection(s), every connection in the way being in transmission");
        }
        if (timedOutSinceLog > 0) {
            what.add("closed " + timedOutSinceLog + " connection(s) that did not finish negotiating in time");
        }
        LOG.warn("nbd server on {}: at its connection limit ({} on this socket{}): {}; the last from {}", listener, limit,
                perPeerLimit < limit ? ", " + perPeerLimit + " per client address" : "", String.join(", ", what), lastPeer);
        refusedSinceLog = 0;
        evictedSinceLog = 0;
        timedOutSinceLog = 0;
        lastLogNanos = nowNanos;
    }

    synchronized int openConnections() {
        return open.size();
    }

    private NbdConnection oldestNegotiating(InetAddress peer) {
        for (NbdConnection c : open) {
            if (c.isNegotiating() && (peer == null || peer.equals(c.peerAddress()))) {
                return c;
            }
        }
        return null;
    }

    private void remove(NbdConnection connection) {
        if (open.remove(connection)) {
            InetAddress peer = connection.peerAddress();
            if (peer != null) {
                perPeer.computeIfPresent(peer, (p, n) -> n <= 1 ? null : n - 1);
            }
        }
    }

    @Override
    public String toString() {
        return Objects.toString(listener);
    }
}
