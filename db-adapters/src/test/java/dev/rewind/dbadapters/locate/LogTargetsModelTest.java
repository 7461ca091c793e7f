package dev.rewind.dbadapters.locate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.SeqFence;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.restore.RestoreResult;
import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import dev.rewind.volumeset.catalog.RestoreRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A modelled database log on a real set: each commit is a log record (a start position and a
 * length) written to the set by one write, whose seq the model keeps; samples are taken at
 * random moments, also between a record's insertion and its write (durable = the end of the
 * written records, bound = the end of the inserted ones, as PostgreSQL's flush and insert
 * LSNs are); restores in place go back to random seqs and are undone now and then, after
 * which the database's log goes on from where it was at the target, so the same positions
 * come again with other writes. The database cannot say where a position lives, so only
 * samples can place one. Every record of the log as the set holds it now resolves, through
 * and before, to the model's seq or is refused (as does a position inside a record); a
 * position past the current log (one only an undone stretch had) is refused. Never another
 * seq.
 */
class LogTargetsModelTest {
    private static final String SET = "model";
    private static final int BLOCK_BYTES = 4096;
    private static final int BLOCKS = 64;

    @TempDir
    Path tmp;

    /** A log record: where it starts, how long it is, and the seq of the write that put it on the set. */
    private record Rec(long start, long length, long writeSeq) {
        long end() {
            return start + length;
        }
    }

    static LongStream seeds() {
        return Seeds.range(0x10C7A46E7L, 20);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void everyPositionResolvesToTheModelsSeqOrIsRefused(long seed) throws IOException {
        Random random = new Random(seed);
        try (TestSet t = TestSet.create(tmp, SET, (long) BLOCKS * BLOCK_BYTES); CapturedSet set = t.open()) {
            DatabaseAttachment attachment = new DatabaseAttachment(SET, "postgresql", "jdbc:postgresql://127.0.0.1:1/x", null, null, null,
                    null, null, List.of(), Map.of("m0", tmp.resolve("mnt").toString()), null, Duration.ofSeconds(1), 0);
            t.catalog.databases().attach(attachment);
            ModelLog db = new ModelLog();
            // the log the set holds at each seq of its current history: the records written by then
            Map<Long, List<Rec>> logAtSeq = new HashMap<>();
            logAtSeq.put(0L, List.of());
            List<Rec> written = new ArrayList<>();
            long insertedEnd = 1000;
            int placed = 0;
            int refused = 0;
            for (int op = 0; op < 160; op++) {
                int kind = random.nextInt(100);
                if (kind < 45) { // a commit: maybe a sample before, its insertion, maybe one while it waits, its write, maybe one after
                    if (random.nextBoolean()) {
                        sample(t, set, written, insertedEnd);
                    }
                    long length = 1 + random.nextInt(40);
                    long start = insertedEnd;
                    insertedEnd += length;
                    if (random.nextInt(3) == 0) {
                        sample(t, set, written, insertedEnd);
                    }
                    long seq = write(set, random);
                    written.add(new Rec(start, length, seq));
                    logAtSeq.put(seq, List.copyOf(written));
                    if (random.nextBoolean()) {
                        sample(t, set, written, insertedEnd);
                    }
                } else if (kind < 60) { // a write of something else (a data page)
                    logAtSeq.put(write(set, random), List.copyOf(written));
                } else if (kind < 85) {
                    sample(t, set, written, insertedEnd);
                } else if (set.lastSeq() > 0) { // a restore in place to a seq of the history, or the undo of the last one
                    Lineage lineage = Lineage.of(t.catalog.listRestores(SET), set.lastSeq());
                    List<RestoreRecord> restores = t.catalog.listRestores(SET);
                    long target;
                    if (!restores.isEmpty() && random.nextBoolean()) {
                        RestoreRecord last = restores.stream().max((a, b) -> Long.compare(a.firstSeq(), b.firstSeq())).orElseThrow();
                        target = last.firstSeq() - 1;
                    } else {
                        List<Lineage.SeqRange> ranges = lineage.ranges();
                        Lineage.SeqRange r = ranges.get(random.nextInt(ranges.size()));
                        target = r.firstSeq() + (long) random.nextInt((int) (r.lastSeq() - r.firstSeq() + 1));
                    }
                    if (!lineage.contains(target) || !logAtSeq.containsKey(target)) {
                        continue;
                    }
                    RestoreResult result;
                    try {
                        result = set.restoreInPlace(target, ProgressListener.NONE);
                    } catch (RewindException e) {
                        continue; // a target the set refuses (none expected here, but the model only follows what happened)
                    }
                    if (result.lastSeq() >= result.firstSeq()) {
                        t.catalog.insertRestore(new RestoreRecord(SET, target, result.firstSeq(), result.lastSeq(), result.bytesWritten(), 0));
                    }
                    // the database starts again on the files of the target: its log is what was written by then
                    written = new ArrayList<>(logAtSeq.get(target));
                    insertedEnd = written.isEmpty() ? 1000 : written.get(written.size() - 1).end();
                    logAtSeq.put(set.lastSeq(), List.copyOf(written));
                }
                db.durable = written.isEmpty() ? 1000 : written.get(written.size() - 1).end();
                db.bound = insertedEnd;
                if (random.nextInt(4) == 0) {
                    int[] counts = check(t, set, attachment, db, written, random, seed, op);
                    placed += counts[0];
                    refused += counts[1];
                }
            }
            int[] counts = check(t, set, attachment, db, written, random, seed, 160);
            placed += counts[0];
            refused += counts[1];
            assertTrue(placed > 0, Seeds.describe(seed) + ": no position was placed (" + refused + " refused); the model checks nothing");
        }
    }

    /** Resolves positions of the current log and some of no record; returns {placed, refused}. */
    private static int[] check(TestSet t, CapturedSet set, DatabaseAttachment attachment, ModelLog db, List<Rec> written, Random random,
            long seed, int op) throws IOException {
        LogTargets targets = new LogTargets(set, t.catalog, attachment, db);
        int placed = 0;
        int refused = 0;
        List<Long> positions = new ArrayList<>(written.stream().map(Rec::start).toList());
        for (int i = 0; i < 4; i++) {
            positions.add(1000 + (long) random.nextInt((int) Math.max(1, db.bound - 1000 + 200)));
        }
        for (long p : positions) {
            Rec rec = written.stream().filter(r -> r.start() <= p && p < r.end()).findFirst().orElse(null);
            DatabasePosition at = new DatabasePosition("0/" + Long.toHexString(p).toUpperCase(), p);
            for (boolean through : new boolean[] {true, false}) {
                String what = Seeds.describe(seed) + ", op " + op + ", " + (through ? "through " : "before ") + p + ", record " + rec;
                PositionTarget target;
                try {
                    target = through ? targets.through(at) : targets.before(at);
                } catch (RewindException e) {
                    refused++;
                    continue;
                }
                if (rec == null) {
                    fail(what + ": no record of the log the set holds is there, yet it resolved to seq " + target.seq() + " ("
                            + target.how() + ")");
                }
                assertEquals(through ? rec.writeSeq() : rec.writeSeq() - 1, target.seq(), what + ": " + target.how());
                placed++;
            }
        }
        return new int[] {placed, refused};
    }

    private static long write(CapturedSet set, Random random) throws IOException {
        byte[] block = new byte[BLOCK_BYTES];
        random.nextBytes(block);
        set.device("m0").write((long) BLOCK_BYTES * random.nextInt(BLOCKS), ByteBuffer.wrap(block), false);
        return set.lastSeq();
    }

    /** A sample as the position sampler takes one: the durable position, the seq, the bound position. */
    private static void sample(TestSet t, CapturedSet set, List<Rec> written, long insertedEnd) {
        if (set.isRestoreUnfinished()) {
            return;
        }
        long seq = set.lastSeq();
        long lineageSeq = Lineage.of(t.catalog.listRestores(SET), seq).lineageSeqOf(seq);
        if (lineageSeq == 0) {
            return;
        }
        long durable = written.isEmpty() ? 1000 : written.get(written.size() - 1).end();
        t.catalog.databases().insertSamples(List.of(new PositionSample(SET, seq, 0, "0/" + Long.toHexString(durable), durable,
                "0/" + Long.toHexString(insertedEnd), insertedEnd, null).onLineage(lineageSeq)));
    }

    /** The modelled database: its log positions now; it cannot say where a position lives. */
    private static final class ModelLog implements DatabaseAdapter {
        long durable = 1000;
        long bound = 1000;

        @Override
        public Engine engine() {
            return Engine.POSTGRESQL;
        }

        @Override
        public String checkConnection() {
            return "model";
        }

        @Override
        public ConsistentPoint consistentPoint(String name, SeqFence fence) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<PositionSample> sample(String setName, SeqFence fence) throws IOException {
            return Optional.of(new PositionSample(setName, fence.seqNow(), 0, "0/" + Long.toHexString(durable), durable,
                    "0/" + Long.toHexString(bound), bound, null));
        }

        @Override
        public DatabasePosition parsePosition(String text) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void awaitAcceptingConnections(Duration timeout) {
        }

        @Override
        public void validate(String sql) {
        }

        @Override
        public FoundStatements search(StatementQuery query) {
            return new FoundStatements(List.of(), null, null);
        }

        @Override
        public Optional<LogLocation> locate(DatabasePosition position) {
            return Optional.empty();
        }

        @Override
        public void close() {
        }
    }
}
