package dev.rewind.cli.datadir;

import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.increments.increment.IncrementCodec;
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
            set.transactionService().addListener(t -> catalog.insertTransactions(List.of(record(name, store, t))));
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
        set.keepEveryWrite(s.keepEveryWrite());
    }

    static TransactionRecord record(String setName, IncrementStore store, Transaction t) {
        return new TransactionRecord(setName, t.id(), t.firstSeq(), t.lastSeq(), t.startMicros(), t.endMicros(), t.writes(), t.bytes(),
                t.reason().label(), t.codec().settingName(), t.extentCount(), t.forwardStoredBytes(), t.backwardStoredBytes(),
                t.changedBytes(), store.path(t.id(), IncrementDirection.FORWARD).getFileName().toString(),
                store.path(t.id(), IncrementDirection.BACKWARD).getFileName().toString());
    }
}
