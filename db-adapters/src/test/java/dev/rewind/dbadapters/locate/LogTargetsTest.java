package dev.rewind.dbadapters.locate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.SeqFence;
import dev.rewind.dbadapters.api.StatementQuery;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Positions to seqs from samples stored in the set's H2 catalog: 100 writes, a sample every
 * ten seqs (at seq 10k the log is durable through 100k and bounded by 100k + 10), and a
 * database whose position now is 1000. The exact path (a real file on a real ext4) is
 * covered by {@link FileExtentsIT} and {@link WriteLocatorTest}; here the adapter cannot say
 * where a position lives, or names a file on no member's mount.
 */
class LogTargetsTest {
    @TempDir
    Path tmp;
    TestSet t;
    CapturedSet set;
    DatabaseAttachment attachment;
    final FixedLog adapter = new FixedLog();

    @BeforeEach
    void history() throws IOException {
        t = TestSet.create(tmp, "lt", 1L << 20);
        set = t.open();
        for (int i = 0; i < 100; i++) {
            set.device("m0").write(4096L * (i % 16), ByteBuffer.wrap(new byte[4096]), false);
        }
        attachment = new DatabaseAttachment("lt", "postgresql", "jdbc:postgresql://127.0.0.1:1/x", null, null, null, null, null, List.of(),
                Map.of("m0", tmp.resolve("data").toString()), null, Duration.ofSeconds(1), 0);
        t.catalog.databases().attach(attachment);
    }

    @AfterEach
    void close() throws IOException {
        set.close();
        t.close();
    }

    private void sampleEveryTenSeqs() {
        List<PositionSample> samples = new ArrayList<>();
        for (int k = 1; k <= 9; k++) {
            samples.add(new PositionSample("lt", 10L * k, k, "" + 100 * k, 100L * k, "" + (100 * k + 10), 100L * k + 10, null));
        }
        t.catalog.databases().insertSamples(samples);
    }

    private LogTargets targets() {
        return new LogTargets(set, t.catalog, attachment, adapter);
    }

    private static DatabasePosition at(long order) {
        return new DatabasePosition("" + order, order);
    }

    @Test
    void withoutAnExactLocationSamplesTenSeqsApartAreRefusedWithTheNearestKnownPositions() {
        sampleEveryTenSeqs();
        RewindException through = assertThrows(RewindException.class, () -> targets().through(at(250)));
        assertTrue(through.getMessage().startsWith("LSN 250 cannot be placed exactly (the database cannot tell where 250 lives now"),
                through.getMessage());
        assertTrue(through.getMessage().endsWith("the nearest known positions: before it 210 at seq 20, after it 300 at seq 30; "
                + "restore to one of them with --to-seq"), through.getMessage());
        RewindException before = assertThrows(RewindException.class, () -> targets().before(at(250)));
        assertTrue(before.getMessage().contains("before it 210 at seq 20, after it 300 at seq 30"), before.getMessage());
        RewindException notYet = assertThrows(RewindException.class, () -> targets().through(at(950)));
        assertTrue(notYet.getMessage().contains("before it 910 at seq 90, after it none sampled yet (newest seq 100)"),
                notYet.getMessage());
    }

    @Test
    void samplesAtConsecutiveSeqsThatBracketAPositionPlaceItExactly() throws IOException {
        sampleEveryTenSeqs();
        t.catalog.databases().insertSamples(List.of(new PositionSample("lt", 21, 0, "260", 260, "270", 270, null)));
        PositionTarget before = targets().before(at(250));
        assertEquals(20, before.seq(), before.how());
        assertTrue(before.exact());
        assertEquals(21, targets().through(at(250)).seq());
    }

    @Test
    void positionsOutsideTheHistoryAreRefusedWithItsEnds() {
        sampleEveryTenSeqs();
        RewindException late = assertThrows(RewindException.class, () -> targets().through(at(2000)));
        assertEquals("LSN 2000 is outside the set's history (oldest 110, newest 1000)", late.getMessage());
        adapter.down = true;
        RewindException lateDown = assertThrows(RewindException.class, () -> targets().before(at(950)));
        assertEquals("LSN 950 is outside the set's history (oldest 110, newest 910)", lateDown.getMessage());
    }

    @Test
    void aPositionOlderThanTheOldestKeptSampleIsRefusedWithTheNearestKnownPositionAfterIt() {
        sampleEveryTenSeqs();
        for (boolean through : new boolean[] {true, false}) {
            RewindException e = assertThrows(RewindException.class, () -> {
                if (through) {
                    targets().through(at(105));
                } else {
                    targets().before(at(105));
                }
            });
            assertEquals("LSN 105 is older than the oldest kept sample (110 at seq 10), so it cannot be placed exactly; nothing before "
                    + "it is kept; the nearest known position after it is 200 at seq 20 (rewind restore lt --to-seq 20)", e.getMessage());
        }
    }

    @Test
    void samplesUndoneByARestoreInPlaceAreIgnored() throws IOException {
        sampleEveryTenSeqs();
        t.catalog.insertRestore(new RestoreRecord("lt", 40, 61, 70, 4096, 0));
        // after the restore the database went on from 410 again: at seq 71 not yet at 650, at seq 72 durable through it
        t.catalog.databases().insertSamples(List.of(new PositionSample("lt", 71, 0, "600", 600, "640", 640, null),
                new PositionSample("lt", 72, 0, "660", 660, "670", 670, null)));
        assertEquals(71, targets().before(at(650)).seq(), "samples at seqs 50 and 60 were undone");
        assertEquals(72, targets().through(at(650)).seq());
    }

    @Test
    void aSampleTakenOnAnotherLineageThanItsSeqHasNowIsIgnored() throws IOException {
        sampleEveryTenSeqs();
        t.catalog.insertRestore(new RestoreRecord("lt", 40, 61, 70, 4096, 0));
        List<PositionSample> samples = List.of(new PositionSample("lt", 71, 0, "600", 600, "640", 640, null),
                new PositionSample("lt", 72, 0, "660", 660, "670", 670, null));
        t.catalog.databases().insertSamples(List.of(samples.get(0), samples.get(1).onLineage(1)));
        // seq 72 is in the history, but the sample there was taken on the lineage the restore ended
        RewindException e = assertThrows(RewindException.class, () -> targets().before(at(650)));
        assertTrue(e.getMessage().contains("before it 640 at seq 71, after it none sampled yet"), e.getMessage());
    }

    @Test
    void aFileOnNoMembersMountIsRefusedAndSaysWhy() {
        sampleEveryTenSeqs();
        adapter.location = new LogLocation(at(250), Path.of("/elsewhere/wal/0001"), 0, new byte[16], false);
        RewindException e = assertThrows(RewindException.class, () -> targets().before(at(250)));
        assertTrue(e.getMessage().contains("no member's mount holds /elsewhere/wal/0001"), e.getMessage());
    }

    @Test
    void withoutSamplesItSaysHowToRestoreInstead() {
        RewindException e = assertThrows(RewindException.class, () -> targets().through(at(250)));
        assertTrue(e.getMessage().contains("--to-bookmark"), e.getMessage());
    }

    /** A database whose log is at 1000 now (or down), which cannot say where a position lives unless told. */
    private final class FixedLog implements DatabaseAdapter {
        volatile boolean down;
        volatile LogLocation location;

        @Override
        public Engine engine() {
            return Engine.POSTGRESQL;
        }

        @Override
        public String checkConnection() {
            return "fixed";
        }

        @Override
        public ConsistentPoint consistentPoint(String name, SeqFence fence) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<PositionSample> sample(String setName, SeqFence fence) throws IOException {
            if (down) {
                throw new RewindException("cannot reach the database");
            }
            return Optional.of(new PositionSample(setName, fence.seqNow(), 0, "1000", 1000, "1000", 1000, null));
        }

        @Override
        public DatabasePosition parsePosition(String text) {
            return at(Long.parseLong(text));
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
            return Optional.ofNullable(location);
        }

        @Override
        public void close() {
        }
    }
}
