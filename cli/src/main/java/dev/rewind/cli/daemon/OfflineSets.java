package dev.rewind.cli.daemon;

import dev.rewind.capture.SetOfflineException;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sets the daemon could not open, each with why: such a set stays offline alone, its
 * commands and exports refused with the reason, while the others are served. The log says it
 * once per failure, not at every refusal.
 */
public final class OfflineSets {
    private static final Logger LOG = LoggerFactory.getLogger(OfflineSets.class);

    private final Map<String, SetOfflineException> offline = new ConcurrentHashMap<>();
    private final Clock clock;

    public OfflineSets(Clock clock) {
        this.clock = clock;
    }

    /** Takes {@code setName} offline because opening it failed with {@code cause}; returns the refusal its users get. */
    public SetOfflineException takeOffline(String setName, Exception cause) {
        SetOfflineException e = cause instanceof SetOfflineException o ? o : new SetOfflineException(setName, cause, clock.instant());
        SetOfflineException before = offline.put(setName, e);
        if (before == null || !before.why().equals(e.why())) {
            LOG.error("{}", e.getMessage());
        }
        return e;
    }

    /** Refuses with the reason if the set is offline. */
    public void checkOnline(String setName) {
        SetOfflineException e = offline.get(setName);
        if (e != null) {
            throw e;
        }
    }

    public Optional<SetOfflineException> reason(String setName) {
        return Optional.ofNullable(offline.get(setName));
    }

    /** The set opened again: it is no longer offline. */
    public void online(String setName) {
        if (offline.remove(setName) != null) {
            LOG.warn("set {} is online again", setName);
        }
    }

    public Set<String> names() {
        return new TreeSet<>(offline.keySet());
    }
}
