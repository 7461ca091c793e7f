package dev.rewind.dbadapters.locate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatement;
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
    void withoutAnExactLocationTheSamplesOnTheSafeSideAreUsed() throws IOException {
        sampleEveryTenSeqs();
        PositionTarget through = targets().through(at(250));
        assertEquals(new PositionTarget(30, false, through.how()), through);
        assertTrue(through.how().startsWith("sampled: no exact location"), through.how());
        assertEquals(20, targets().before(at(250)).seq(), "the newest sample whose bound (210) is before 250");
        assertEquals(20, targets().before(at(211)).seq());
        assertEquals(10, targets().before(at(210)).seq(), "at seq 20, 210 may already be on disk");
        assertEquals(30, targets().through(at(300)).seq());
        assertEquals(100, targets().through(at(950)).seq(), "no sample has 950 on disk yet: the newest seq");
    }

    @Test
    void positionsOutsideTheHistoryAreRefusedWithItsEnds() {
        sampleEveryTenSeqs();
        RewindException late = assertThrows(RewindException.class, () -> targets().through(at(2000)));
        assertEquals("LSN 2000 is outside the set's history (oldest 110, newest 1000)", late.getMessage());
        adapter.down = true;
        RewindException lateDown = assertThrows(RewindException.class, () -> targets().before(at(950)));
        assertEquals("LSN 950 is outside the set's history (oldest 110, newest 910)", lateDown.getMessage());
        RewindException early = assertThrows(RewindException.class, () -> targets().before(at(105)));
        assertTrue(early.getMessage().startsWith("LSN 105 is outside the set's history"), early.getMessage());
    }

    @Test
    void samplesUndoneByARestoreInPlaceAreIgnored() throws IOException {
        sampleEveryTenSeqs();
        t.catalog.insertRestore(new RestoreRecord("lt", 40, 61, 70, 4096, 0));
        assertEquals(40, targets().before(at(650)).seq(), "samples at seqs 50 and 60 were undone");
        assertEquals(80, targets().through(at(450)).seq());
    }

    @Test
    void aFileOnNoMembersMountFallsBackAndSaysWhy() throws IOException {
        sampleEveryTenSeqs();
        adapter.location = new LogLocation(at(250), Path.of("/elsewhere/wal/0001"), 0, new byte[16]);
        PositionTarget p = targets().before(at(250));
        assertFalse(p.exact());
        assertEquals(20, p.seq());
        assertTrue(p.how().contains("no member's mount holds /elsewhere/wal/0001"), p.how());
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
        public List<FoundStatement> find(StatementQuery query) {
            return List.of();
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
