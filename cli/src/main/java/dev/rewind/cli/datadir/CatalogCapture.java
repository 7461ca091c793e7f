package dev.rewind.cli.datadir;

import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.retention.Retention;
import dev.rewind.increments.retention.RetentionPlan;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.volumeset.Times;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.transaction.CutRules;
import dev.rewind.increments.transaction.IncrementStore;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.SetSettings;
import dev.rewind.volumeset.catalog.TransactionRecord;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens a set the way the catalog says it is captured ({@link SetSettings}: cut rules,
 * increment codec, every-write horizon), and keeps the catalog's {@code transactions} table in
 * step with the set's transaction log: every cut inserts its row, and at open the rows a
 * crash left out (committed on the secondary, not yet in the catalog) are inserted. The
 * secondary's transaction log is the truth; the catalog's rows are a copy for queries.
 */
public final class CatalogCapture {
    private CatalogCapture() {
    }

    /** The cut rules the settings ask for. */
    public static CutRules cutRules(SetSettings s) {
        return new CutRules(s.cutEvery(), s.cutAdaptiveMin(), s.cutAdaptiveMax(), s.cutWrites(), s.cutBytes());
    }

    /**
     * Capture options for the settings, with the set's own checkpoint thread every
     * {@code checkpointInterval} (zero: none), reading the time from {@code clock}.
     */
    public static CaptureOptions options(SetSettings s, Duration checkpointInterval, Clock clock) {
        return CaptureOptions.DEFAULT.withClock(clock).withCheckpointInterval(checkpointInterval).withCutRules(cutRules(s))
                .withCodec(IncrementCodec.parse(s.codec())).withKeepEveryWrite(s.keepEveryWrite());
    }

    /**
     * Opens the set with its catalog settings, on {@code clock}; its transactions are mirrored
     * into the catalog from now on.
     */
    public static CapturedSet open(Catalog catalog, String name, Duration checkpointInterval, Clock clock) throws IOException {
        SetSettings settings = catalog.settings(name);
        CapturedSet set = Sets.open(new dev.rewind.volumeset.manager.VolumeManager(catalog), name, options(settings, checkpointInterval, clock));
        try {
            IncrementStore store = set.history().increments();
            set.historyPins(() -> catalog.historyPins(name));
            set.retentionPolicy(retentionPolicy(settings));
            set.maxSecondaryBytes(settings.keepMaxBytes());
            set.retentionPins(() -> retentionPins(catalog, name));
            set.transactionService().addListener(t -> catalog.insertTransactions(List.of(record(name, store, t))));
            if (catalog.countTransactions(name) > set.transactions().size()) {
                mirrorTransactions(catalog, set); // a retention pass committed but its rows were not replaced
            }
            insertMissing(catalog, set);
            return set;
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    /** Inserts the rows of committed transactions the catalog does not hold yet; returns how many. */
    public static int insertMissing(Catalog catalog, CapturedSet set) {
        long known = catalog.lastTransactionId(set.name());
        IncrementStore store = set.history().increments();
        List<TransactionRecord> missing = new ArrayList<>();
        for (Transaction t : set.transactions()) {
            if (t.id() > known) {
                missing.add(record(set.name(), store, t));
            }
        }
        return catalog.insertTransactions(missing);
    }

    /** Applies changed settings to an open set at once (cut rules, codec of the next increments, horizon). */
    public static void apply(CapturedSet set, SetSettings s) throws IOException {
        set.cutRules(cutRules(s));
        set.transactionService().codec(IncrementCodec.parse(s.codec()));
        set.retentionPolicy(retentionPolicy(s));
        set.maxSecondaryBytes(s.keepMaxBytes());
    }

    /** The set's retention policy as the catalog keeps it. */
    public static RetentionPolicy retentionPolicy(SetSettings s) {
        return RetentionPolicy.of(s.keepEveryWrite(), s.keepRules());
    }

    /** The points the set's bookmarks and sandboxes name, as retention weighs them. */
    static List<RetentionPlan.Pin> retentionPins(Catalog catalog, String name) {
        List<RetentionPlan.Pin> pins = new ArrayList<>();
        for (Catalog.PinnedPoint p : catalog.pinnedPoints(name)) {
            RetentionPlan.PinKind kind = switch (p.kind()) {
                case "consistent" -> RetentionPlan.PinKind.CONSISTENT_BOOKMARK;
                case "bookmark" -> RetentionPlan.PinKind.BOOKMARK;
                default -> RetentionPlan.PinKind.READER;
            };
            pins.add(new RetentionPlan.Pin(p.seq(), kind, Times.ofMicros(p.madeMicros()),
                    (kind == RetentionPlan.PinKind.READER ? "sandbox " : "bookmark ") + p.name()));
        }
        return pins;
    }

    /**
     * A retention pass on the set, and the catalog's copy of its transactions made equal to the
     * log after it: what {@code rewind retain} and the daemon's retention job run.
     */
    public static Retention.Result retain(Catalog catalog, CapturedSet set, RetentionPlan plan) throws IOException {
        Retention.Result result;
        try {
            result = set.retain(plan);
        } catch (IllegalStateException e) {
            // another pass (the daemon's, or a rewind retain) changed the history since the plan was made: plan again, once
            result = set.retain(set.planRetention());
        }
        if (result.dropped() > 0 || result.merged() > 0) {
            mirrorTransactions(catalog, set);
        }
        return result;
    }

    /** Replaces the catalog's rows of the set's transactions with the log's. */
    static void mirrorTransactions(Catalog catalog, CapturedSet set) {
        IncrementStore store = set.history().increments();
        List<TransactionRecord> rows = new ArrayList<>();
        for (Transaction t : set.transactions()) {
            rows.add(record(set.name(), store, t));
        }
        catalog.replaceTransactions(set.name(), rows);
    }

    static TransactionRecord record(String setName, IncrementStore store, Transaction t) {
        return new TransactionRecord(setName, t.id(), t.firstSeq(), t.lastSeq(), t.startMicros(), t.endMicros(), t.writes(), t.bytes(),
                t.reason().label(), t.codec().settingName(), t.extentCount(), t.forwardStoredBytes(), t.backwardStoredBytes(),
                t.changedBytes(), store.path(t.id(), IncrementDirection.FORWARD).getFileName().toString(),
                store.path(t.id(), IncrementDirection.BACKWARD).getFileName().toString());
    }
}
