package dev.rewind.dbadapters.positions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.rewind.capture.CapturedSet;
import dev.rewind.dbadapters.api.ConsistentPoint;
import dev.rewind.dbadapters.api.DatabaseAdapter;
import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.dbadapters.api.Engine;
import dev.rewind.dbadapters.api.FoundStatements;
import dev.rewind.dbadapters.api.LogLocation;
import dev.rewind.dbadapters.api.SeqFence;
import dev.rewind.dbadapters.api.StatementQuery;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.set.TestSet;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.DatabaseAttachment;
import dev.rewind.volumeset.catalog.PositionSample;
import dev.rewind.volumeset.catalog.RelationNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The sampler's thread against a set and its catalog. The PostgreSQL adapter is built on its
 * own branch, so the database here is {@link H2Log}, a test-only adapter over a real H2
 * database whose "log position" is a sequence that a writer advances: it gives positions
 * that grow, can be taken down, and tells when it is sampled while it should not be.
 */
class PositionSamplerIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    TestSet t;
    CapturedSet set;
    DatabaseAttachment attachment;
    H2Log db;

    @BeforeEach
    void setUp() throws Exception {
        t = TestSet.create(tmp, "ps", 1L << 20);
        set = t.open();
        db = new H2Log("jdbc:h2:" + tmp.resolve("log") + ";TRACE_LEVEL_FILE=0");
        attachment = new DatabaseAttachment("ps", "h2", db.url, null, null, null, null, null, List.of(), Map.of(), null,
                Duration.ofMillis(20), 0);
        t.catalog.databases().attach(attachment);
    }

    @AfterEach
    void tearDown() throws IOException {
        set.close();
        t.close();
    }

    private List<PositionSample> stored() {
        return t.catalog.databases().samples("ps", 0, Long.MAX_VALUE);
    }

    private void awaitSample(long seq, long durableOrder) throws InterruptedException {
        Instant deadline = Instant.now().plus(WAIT);
        while (stored().stream().noneMatch(p -> p.seq() == seq && p.durableOrder() == durableOrder)) {
            if (Instant.now().isAfter(deadline)) {
                fail("no sample of seq " + seq + " at " + durableOrder + " after " + WAIT + ": " + stored());
            }
            Thread.sleep(10);
        }
    }

    private void advance() throws IOException {
        set.device("m0").write(0, ByteBuffer.wrap(new byte[4096]), false);
        db.advance();
    }

    @Test
    void samplesFollowTheDatabaseAndTheSetAndRepeatsAreSkipped() throws Exception {
        try (PositionSampler sampler = PositionSampler.start(set, t.catalog, attachment, db, Clock.systemUTC())) {
            for (int i = 1; i <= 3; i++) {
                advance();
                awaitSample(i, i);
            }
        }
        // each change moves the seq, then the position: at most two new states per change, and the first
        List<PositionSample> samples = stored();
        assertTrue(samples.size() <= 7, "repeats are skipped: " + samples);
        for (int i = 1; i < samples.size(); i++) {
            PositionSample a = samples.get(i - 1);
            PositionSample b = samples.get(i);
            assertTrue(b.seq() >= a.seq() && b.durableOrder() >= a.durableOrder() && (b.seq() > a.seq() || b.durableOrder() > a.durableOrder()),
                    "samples follow the set and the database: " + samples);
            assertTrue(b.durableOrder() <= b.boundOrder());
        }
    }

    private void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        Instant deadline = Instant.now().plus(WAIT);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                fail(what + " after " + WAIT);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void relationNamesAreStoredWhenTheyChangeAtMostEveryNamesPeriod() throws Exception {
        MovingClock clock = MovingClock.at(Instant.parse("2026-12-01T00:00:00Z"));
        db.names = Map.of("base/5/16384", "public.t2", "base/5/16390", "public.t3");
        try (PositionSampler sampler = PositionSampler.start(set, t.catalog, attachment, db, clock)) {
            advance(); // names read before the set's first write belong to no seq of its history
            awaitSample(1, 1);
            awaitTrue(() -> t.catalog.databases().relationNamesCount("ps") == 1, "the first names read were not stored");
            int first = db.namesReads.get();
            clock.advance(PositionSampler.NAMES_EVERY);
            awaitTrue(() -> db.namesReads.get() > first, "the names were not read again");
            advance();
            awaitSample(2, 2); // a later round than the second reading: that one has finished

            db.names = Map.of("base/5/16390", "public.t3");
            int reads = db.namesReads.get();
            advance();
            awaitSample(3, 3);
            advance();
            awaitSample(4, 4);
            assertEquals(1, t.catalog.databases().relationNamesCount("ps"), "unchanged names are not stored again: "
                    + t.catalog.databases().relationNamesBefore("ps", Long.MAX_VALUE));
            assertEquals(reads, db.namesReads.get(), "names are read at most every " + PositionSampler.NAMES_EVERY);
            clock.advance(PositionSampler.NAMES_EVERY);
            awaitTrue(() -> t.catalog.databases().relationNamesCount("ps") == 2, "changed names were not stored");
        }
        List<RelationNames> stored = t.catalog.databases().relationNamesBefore("ps", Long.MAX_VALUE);
        assertEquals(Map.of("base/5/16390", "public.t3"), stored.get(0).namesByFile());
        assertEquals(Map.of("base/5/16384", "public.t2", "base/5/16390", "public.t3"), stored.get(1).namesByFile());
        assertEquals(1, stored.get(0).lineageSeq());
    }

    @Test
    void pausedSamplingTakesNoSampleAndResumes() throws Exception {
        try (PositionSampler sampler = PositionSampler.start(set, t.catalog, attachment, db, Clock.systemUTC())) {
            advance();
            awaitSample(1, 1);
            try (AutoCloseable paused = sampler.pause()) {
                db.forbidden.set(true);
                advance();
                long heldOff = sampler.periodsHeldOff();
                awaitTrue(() -> sampler.periodsHeldOff() >= heldOff + 10, "ten periods in which nothing may be sampled did not pass");
                db.forbidden.set(false);
            }
            awaitSample(2, 2);
        }
        assertFalse(db.sampledWhileForbidden.get(), "the database was sampled while sampling was paused");
    }

    @Test
    void anOutageIsLoggedOnceAndSamplingResumesAfterIt() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(PositionSampler.class);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        logger.addAppender(events);
        try (PositionSampler sampler = PositionSampler.start(set, t.catalog, attachment, db, Clock.systemUTC())) {
            db.down = true;
            Instant deadline = Instant.now().plus(WAIT);
            while (db.failedSamples < 5) {
                if (Instant.now().isAfter(deadline)) {
                    fail("the sampler did not retry");
                }
                Thread.sleep(10);
            }
            db.down = false;
            advance();
            awaitSample(1, 1);
        } finally {
            logger.detachAppender(events);
        }
        List<String> paused = events.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("paused")).toList();
        assertEquals(1, paused.size(), "logged once per outage: " + paused);
        assertTrue(paused.get(0).startsWith("sampling positions of set ps paused: the database is down; retrying every"), paused.get(0));
        assertTrue(events.list.stream().anyMatch(e -> e.getFormattedMessage().equals("sampling positions of set ps resumed")));
    }

    /** A test-only adapter: an H2 database whose position is the value in table pos, advanced by the test. */
    private static final class H2Log implements DatabaseAdapter {
        final String url;
        final AtomicBoolean forbidden = new AtomicBoolean();
        final AtomicBoolean sampledWhileForbidden = new AtomicBoolean();
        volatile boolean down;
        volatile int failedSamples;

        H2Log(String url) throws Exception {
            this.url = url;
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE pos(v BIGINT)");
                s.execute("INSERT INTO pos VALUES (0)");
            }
        }

        void advance() {
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("UPDATE pos SET v = v + 1");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private long position() {
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT v FROM pos")) {
                rs.next();
                return rs.getLong(1);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** The table names the database has now, by file; read by {@link #relationNames}. */
        volatile Map<String, String> names = Map.of();
        final java.util.concurrent.atomic.AtomicInteger namesReads = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Optional<RelationNames> relationNames(String setName, SeqFence fence) throws IOException {
            namesReads.incrementAndGet();
            long at = position();
            return Optional.of(new RelationNames(setName, fence.seqNow(), 0, 0, "" + at, at, names));
        }

        @Override
        public Optional<PositionSample> sample(String setName, SeqFence fence) throws IOException {
            if (forbidden.get()) {
                sampledWhileForbidden.set(true);
            }
            if (down) {
                failedSamples++;
                throw new RewindException("the database is down");
            }
            long durable = position();
            long seq = fence.seqNow();
            long bound = position();
            return Optional.of(new PositionSample(setName, seq, 0, "" + durable, durable, "" + bound, bound, null));
        }

        @Override
        public Engine engine() {
            return Engine.H2;
        }

        @Override
        public String checkConnection() {
            return "H2";
        }

        @Override
        public ConsistentPoint consistentPoint(String name, SeqFence fence) {
            throw new UnsupportedOperationException();
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
