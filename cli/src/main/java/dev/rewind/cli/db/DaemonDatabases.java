package dev.rewind.cli.db;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.positions.PositionSampler;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's position samplers, one per open set with an attached database, each with the
 * adapter it owns. A database that cannot be reached does not stop anything: the sampler
 * keeps retrying; an attachment whose adapter cannot even be opened (say, its password file
 * went away) is logged on one line and left unsampled until it is attached again.
 */
public final class DaemonDatabases implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonDatabases.class);

    private record Running(PositionSampler sampler, DatabaseAdapter adapter) {
    }

    private final Catalog catalog;
    private final Function<String, CapturedSet> openSets;
    private final Clock clock;
    private final Map<String, Running> running = new ConcurrentHashMap<>();

    /** {@code openSets} gives the daemon's open set of a name, or null when it is not open. */
    public DaemonDatabases(Catalog catalog, Function<String, CapturedSet> openSets, Clock clock) {
        this.catalog = catalog;
        this.openSets = openSets;
        this.clock = clock;
    }

    /** (Re)starts sampling the set's database as its attachment now says; stops it when none is attached. */
    public synchronized void refresh(String setName) {
        stop(setName);
        Optional<DatabaseAttachment> attachment = catalog.databases().attachment(setName);
        CapturedSet set = openSets.apply(setName);
        if (attachment.isEmpty() || set == null) {
            return;
        }
        DatabaseAdapter adapter;
        try {
            adapter = AttachedDatabase.open(attachment.get());
        } catch (RuntimeException e) {
            LOG.warn("not sampling the database positions of set {}: {}; fix it and run rewind db attach again", setName, e.getMessage());
            return;
        }
        try {
            running.put(setName, new Running(PositionSampler.start(set, catalog, attachment.get(), adapter, clock), adapter));
        } catch (RuntimeException e) {
            adapter.close();
            LOG.warn("not sampling the database positions of set {}: {}", setName, e.getMessage());
        }
    }

    /**
     * Pauses the set's sampler until the returned handle is closed (around a coordinated
     * restore); a set that is not sampled gives a handle that does nothing.
     */
    public AutoCloseable pause(String setName) {
        Running r = running.get(setName);
        return r == null ? () -> { } : r.sampler().pause();
    }

    /** Stops sampling the set (detached, or closed by the daemon). */
    public synchronized void stop(String setName) {
        Running r = running.remove(setName);
        if (r != null) {
            try {
                r.sampler().close();
            } finally {
                r.adapter().close();
            }
        }
    }

    @Override
    public synchronized void close() {
        for (String setName : Map.copyOf(running).keySet()) {
            try {
                stop(setName);
            } catch (RuntimeException e) {
                LOG.warn("stopping the position sampler of set {}: {}", setName, e.getMessage());
            }
        }
    }
}
