package dev.rewind.cli;

import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.testfixtures.seed.Seeds;
import java.util.stream.LongStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.volumeset.Times;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code rewind log}: times printed as ISO-8601 UTC that {@code --to-time} reads back, and the
 * {@code --since}/{@code --until}/{@code --member}/{@code --offset} filters checked against a
 * plain list of the writes made (seeded, replayable with {@code -Drewind.seed=N}).
 */
class LogCommandTest {
    private static final Pattern ISO_UTC = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z");

    @TempDir
    Path tmp;
    CliHarness cli;

    record Write(long seq, Instant time, int member, long offsetBytes, int lengthBytes) {
    }

    @BeforeEach
    void setUp() {
        cli = new CliHarness(tmp);
        cli.createShop();
    }

    /**
     * Writes {@code count} random writes with a clock that starts now and moves 0 to
     * {@code maxStepMillis} (plus some microseconds) between them; the commands run on that
     * clock from then on, which stands at the last write.
     */
    List<Write> randomWrites(long seed, int count, int maxStepMillis) throws Exception {
        Random random = new Random(seed);
        MovingClock clock = MovingClock.at(Instant.now());
        cli.clock = clock;
        List<Write> writes = new ArrayList<>();
        try (DataDir d = new DataDir(cli.data);
             CapturedSet set = Sets.open(d.volumes(), "shop", CaptureOptions.DEFAULT.withClock(clock))) {
            for (int i = 0; i < count; i++) {
                clock.advance(Duration.ofMillis(random.nextInt(maxStepMillis)).plusNanos(random.nextInt(1000) * 1000L));
                int member = random.nextInt(2);
                long size = member == 0 ? 18 << 20 : 2 << 20;
                int length = 1 + random.nextInt(8192);
                long offset = random.nextLong(size - length);
                set.devices().get(member).write(offset, ByteBuffer.allocate(length), false);
                writes.add(new Write(set.lastSeq(), clock.instant(), member, offset, length));
            }
            set.flush();
        }
        return writes;
    }

    static LongStream seeds() {
        return Seeds.of(1, 2, 3, 4);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void filtersReturnExactlyTheMatchingWritesNewestFirst(long seed) throws Exception {
        String replay = " (" + Seeds.describe(seed) + ")";
        List<Write> writes = randomWrites(seed, 120, 3000);
        Random random = new Random(seed * 31 + 7);
        for (int query = 0; query < 8; query++) {
            Instant since = random.nextBoolean() ? null : writes.get(random.nextInt(writes.size())).time().plusNanos(random.nextInt(3) * 1000L - 1000L);
            Instant until = random.nextBoolean() ? null : writes.get(random.nextInt(writes.size())).time().plusNanos(random.nextInt(3) * 1000L - 1000L);
            Integer member = random.nextInt(3) == 0 ? null : random.nextInt(2);
            Write touched = writes.get(random.nextInt(writes.size()));
            // a byte inside a write, or the first byte after it or the last before it (edges a filter must get right)
            long near = switch (random.nextInt(4)) {
                case 0 -> touched.offsetBytes() + touched.lengthBytes();
                case 1 -> Math.max(0, touched.offsetBytes() - 1);
                default -> touched.offsetBytes() + random.nextInt(touched.lengthBytes());
            };
            Long offset = member == null || random.nextBoolean() ? null : near;
            if (offset != null) {
                member = touched.member();
            }
            int limit = 1 + random.nextInt(random.nextBoolean() ? 5 : 60);
            List<String> args = new ArrayList<>(List.of("log", "shop", "--json", "--limit", String.valueOf(limit)));
            if (since != null) {
                args.addAll(List.of("--since", Times.format(since)));
            }
            if (until != null) {
                args.addAll(List.of("--until", Times.format(until)));
            }
            if (member != null) {
                args.addAll(List.of("--member", member == 0 ? "data" : "log"));
            }
            if (offset != null) {
                args.addAll(List.of("--offset", String.valueOf(offset)));
            }
            List<Long> expected = new ArrayList<>();
            for (int i = writes.size() - 1; i >= 0; i--) {
                Write w = writes.get(i);
                boolean match = (since == null || !w.time().isBefore(since)) && (until == null || !w.time().isAfter(until))
                        && (member == null || w.member() == member)
                        && (offset == null || (offset >= w.offsetBytes() && offset < w.offsetBytes() + w.lengthBytes()));
                if (match) {
                    expected.add(w.seq());
                }
            }
            // every page, following nextBefore, until it says there is no more
            List<Long> got = new ArrayList<>();
            Long before = null;
            for (int page = 0; page < 200; page++) {
                List<String> pageArgs = new ArrayList<>(args);
                if (before != null) {
                    pageArgs.addAll(List.of("--before", String.valueOf(before)));
                }
                JsonNode log = cli.ok(pageArgs.toArray(new String[0])).json();
                assertTrue(log.get("entries").size() <= limit);
                for (JsonNode e : log.get("entries")) {
                    got.add(e.get("seq").asLong());
                    Write w = writes.get((int) e.get("seq").asLong() - 1);
                    assertEquals(Times.format(w.time()), e.get("time").asText(), "time of seq " + w.seq() + replay);
                }
                if (log.get("nextBefore").isNull()) {
                    break;
                }
                before = log.get("nextBefore").asLong();
            }
            assertEquals(expected, got, String.join(" ", args) + replay);
        }
    }

    @Test
    void aTimeCopiedFromTheLogRestoresToThatWrite() throws Exception {
        List<Write> writes = randomWrites(42, 10, 2); // the commands run on the clock of the writes: the last write is not in the future
        String text = cli.ok("log", "shop").out();
        List<String> lines = text.lines().filter(l -> l.matches("\\s+\\d+\\s+\\d{4}-.*")).toList();
        assertEquals(10, lines.size(), text);
        for (String line : lines) {
            String[] cols = line.trim().split("\\s+");
            assertTrue(ISO_UTC.matcher(cols[1]).matches(), "log prints ISO-8601 UTC: " + line);
        }
        String time = lines.get(5).trim().split("\\s+")[1]; // seq 5
        JsonNode log = cli.ok("log", "shop", "--json").json();
        assertEquals(time, log.get("entries").get(5).get("time").asText(), "the same form in text and JSON");
        assertEquals(writes.get(4).seq(), cli.ok("restore", "shop", "--to-time", time, "--clone-to", tmp.resolve("c1").toString(), "--json")
                .json().get("targetSeq").asLong());
        // the form older versions printed (space, no zone) is read as local time
        String local = writes.get(4).time().atZone(java.time.ZoneId.systemDefault()).toLocalDateTime().toString().replace('T', ' ');
        assertEquals(writes.get(4).seq(), cli.ok("restore", "shop", "--to-time", local, "--clone-to", tmp.resolve("c2").toString(), "--json")
                .json().get("targetSeq").asLong());
    }

    @Test
    void badFiltersAreRefusedWithOneLine() throws Exception {
        randomWrites(7, 3, 2);
        cli.usage("is not an ISO-8601 time", "log", "shop", "--since", "yesterday");
        cli.refused("has no member nope", "log", "shop", "--member", "nope");
        cli.usage("--offset needs --member", "log", "shop", "--offset", "10");
        cli.usage("--offset must be 0 or more", "log", "shop", "--member", "data", "--offset", "-1");
        String none = cli.ok("log", "shop", "--since", "2030-01-01T00:00:00Z").out();
        assertTrue(none.contains("(no writes match)"), none);
    }

    @Test
    void restoreToATimeInTheFutureIsRefusedWithTheNewestWrite() throws Exception {
        List<Write> writes = randomWrites(3, 4, 2);
        String future = Instant.now().plus(Duration.ofHours(1)).toString();
        cli.refused("is in the future; the newest write of set shop is seq 4 at " + Times.format(writes.get(3).time()),
                "restore", "shop", "--to-time", future);
        cli.refused("is in the future", "restore", "shop", "--to-time", future, "--clone-to", tmp.resolve("c").toString());
    }

}
