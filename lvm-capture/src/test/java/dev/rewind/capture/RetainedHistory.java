package dev.rewind.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.increments.deltamap.DeltaMap;
import dev.rewind.increments.increment.IncrementDirection;
import dev.rewind.increments.increment.IncrementFile;
import dev.rewind.increments.increment.IncrementHeader;
import dev.rewind.increments.transaction.Transaction;
import dev.rewind.testfixtures.model.ImageModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongFunction;
import java.util.stream.Stream;

/**
 * What a set's secondary must look like after a retention pass was cut short (by a kill or a
 * power cut) and the set reopened, for {@link RetainCrashIT} and {@link RetainPowerLossTest}.
 */
final class RetainedHistory {
    private RetainedHistory() {
    }

    /**
     * The boundaries up to {@code newest} (the newest the pass planned over) are either all
     * those before the pass or exactly those it keeps; returns whether they are those it keeps.
     */
    static boolean beforeOrAfter(List<Long> now, long newest, List<Long> before, List<Long> kept, String context) {
        List<Long> covered = now.stream().filter(s -> s <= newest).toList();
        boolean after = covered.equals(kept);
        assertTrue(after || covered.equals(before), context + ": the boundaries up to " + newest + " are " + covered
                + ", neither those before the pass " + before + " nor those it keeps " + kept);
        return after;
    }

    /**
     * No {@code retain/} directory is left; {@code increments/} holds exactly {@code <id>.fwd}
     * and {@code <id>.bwd} of the transactions in the log, each with its transaction's header;
     * {@code maps/} holds only span maps, none naming a transaction after the newest.
     */
    static void assertSecondaryHoldsOnlyTheLog(CapturedSet set, Path secondary, String context) throws IOException {
        assertFalse(Files.exists(secondary.resolve("retain")), context + ": no retain/ directory is left after recovery");
        List<Transaction> txs = set.transactions();
        Set<String> expected = new TreeSet<>();
        for (Transaction tx : txs) {
            for (IncrementDirection d : IncrementDirection.values()) {
                expected.add(set.history().increments().path(tx.id(), d).getFileName().toString());
            }
        }
        Set<String> present = new TreeSet<>(list(secondary.resolve("increments")).stream().map(p -> p.getFileName().toString()).toList());
        assertEquals(expected, present, context + ": increments/ holds those of the transactions in the log and nothing else");
        for (Transaction tx : txs) {
            for (IncrementDirection d : IncrementDirection.values()) {
                Path file = set.history().increments().path(tx.id(), d);
                try (IncrementFile f = IncrementFile.open(file)) {
                    IncrementHeader h = f.header();
                    assertEquals(List.of(set.uuid(), tx.id(), d, tx.firstSeq(), tx.lastSeq()),
                            List.of(h.setUuid(), h.transactionId(), h.direction(), h.firstSeq(), h.lastSeq()),
                            context + ": header of " + file.getFileName());
                }
            }
        }
        long newestId = txs.isEmpty() ? 0 : txs.get(txs.size() - 1).id();
        for (Path p : list(secondary.resolve("maps"))) {
            String name = p.getFileName().toString();
            assertTrue(name.matches("\\d{16}-\\d{16}\\.rwm"), context + ": maps/ holds only span maps, not " + name);
            assertTrue(Long.parseLong(name.substring(17, 33)) <= newestId, context + ": span " + name + " names no transaction after "
                    + newestId);
        }
    }

    /**
     * Every boundary on hand reads back, whole, as the model (through the increments and the
     * span maps, which a stale span would send to the wrong increment), and
     * {@code changedBetween} the oldest and the newest covers every byte the model says differs.
     */
    static void assertBoundariesReadAsModel(CapturedSet set, LongFunction<ImageModel> model, String context) throws IOException {
        List<Long> now = HorizonTest.boundaries(set);
        for (long b : now) {
            HorizonTest.readWhole(set, model.apply(b), b, context + ": boundary " + b);
        }
        long from = now.get(0);
        long to = now.get(now.size() - 1);
        DeltaMap changed = set.history().changedBetween(from, to);
        ImageModel x = model.apply(from);
        ImageModel y = model.apply(to);
        for (int m = 0; m < x.memberCount(); m++) {
            byte[] a = x.bytes(m);
            byte[] b = y.bytes(m);
            for (int i = 0; i < a.length; i++) {
                if (a[i] != b[i] && !changed.changed(m).intersects(i, i + 1)) {
                    throw new AssertionError(context + ": byte " + i + " of member " + m + " differs between seqs " + from + " and " + to
                            + " but changedBetween leaves it out");
                }
            }
        }
    }

    static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
