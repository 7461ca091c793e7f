package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rewind.capture.CaptureOptions;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.Sets;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.increments.transaction.CutReason;
import dev.rewind.testfixtures.clock.MovingClock;
import dev.rewind.volumeset.catalog.SetSettings;
import dev.rewind.volumeset.catalog.TransactionRecord;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code rewind set create|update} capture settings, {@code rewind cut} and {@code rewind log --transactions}, without a daemon. */
class TransactionCommandsTest {
    @TempDir
    Path tmp;
    CliHarness cli;

    /** zstd-jni unpacks its library into java.io.tmpdir, which the build points at target/tmp without creating it. */
    @BeforeAll
    static void tmpdir() throws Exception {
        Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
    }

    @BeforeEach
    void shop() {
        cli = new CliHarness(tmp);
        cli.createShop();
    }

    private SetSettings settings() {
        try (DataDir d = cli.dataDir()) {
            return d.catalog().settings("shop");
        }
    }

    private List<TransactionRecord> catalogTransactions() {
        try (DataDir d = cli.dataDir()) {
            return d.catalog().listTransactions("shop");
        }
    }

    private void write(long offset, int length) throws Exception {
        try (DataDir d = cli.dataDir(); CapturedSet set = d.openSet("shop")) {
            set.devices().get(0).write(offset, ByteBuffer.allocate(length).put(0, (byte) 7), false);
            set.flush();
        }
    }

    @Test
    void createAndUpdateStoreTheSettingsAndUpdateKeepsWhatWasNotGiven() throws Exception {
        cli.ok("pv", "create", "d3", "--path", tmp.resolve("d3.img").toString(), "--size", "4M");
        cli.ok("set", "create", "two", "--member", "pv:d3", "--cut-every", "30s", "--cut-adaptive", "5s..5m", "--cut-writes", "50000",
                "--cut-bytes", "256M", "--codec", "lz4", "--keep", "every-write:24h");
        JsonNode updated = cli.ok("set", "update", "two", "--cut-every", "off", "--codec", "none", "--json").json();
        assertEquals("lz4", updated.get("before").get("codec").asText());
        assertEquals("none", updated.get("codec").asText());
        assertTrue(updated.get("cutEvery").isNull());
        assertEquals("5s", updated.get("cutAdaptiveMin").asText());
        assertEquals("5m", updated.get("cutAdaptiveMax").asText());
        assertEquals(50000, updated.get("cutWrites").asLong());
        assertEquals(256L << 20, updated.get("cutBytes").asLong());
        assertEquals("1d", updated.get("keepEveryWrite").asText());
        JsonNode kept = cli.ok("set", "update", "two", "--keep", "all", "--cut-writes", "0", "--json").json();
        assertTrue(kept.get("keepEveryWrite").isNull());
        assertEquals(0, kept.get("cutWrites").asLong());
    }

    static Stream<Arguments> badSettings() {
        return Stream.of(
                Arguments.of(new String[] {"--cut-every", "5x"}, "not a duration"),
                Arguments.of(new String[] {"--cut-every", "-1s"}, "not a duration"),
                Arguments.of(new String[] {"--cut-adaptive", "5m..5s"}, "above its maximum"),
                Arguments.of(new String[] {"--cut-adaptive", "5s"}, "MIN..MAX"),
                Arguments.of(new String[] {"--cut-writes", "lots"}, "not a number of writes"),
                Arguments.of(new String[] {"--cut-writes", "-5"}, "not a number of writes"),
                Arguments.of(new String[] {"--cut-bytes", "12Q"}, "not a size"),
                Arguments.of(new String[] {"--codec", "gzip"}, "unknown increment compression"),
                Arguments.of(new String[] {"--keep", "forever"}, "is not a retention rule"),
                Arguments.of(new String[] {"--keep", "every-write:soon"}, "not a duration"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badSettings")
    void badSettingsAreOneLineAndChangeNothing(String[] options, String message) throws Exception {
        cli.ok("set", "update", "shop", "--cut-every", "1m");
        SetSettings before = settings();
        Stream<String> valid = options[0].equals("--keep") ? Stream.of("--codec", "lz4") : Stream.of("--keep", "every-write:1h");
        String[] update = Stream.concat(Stream.concat(Stream.of("set", "update", "shop"), valid), Stream.of(options)).toArray(String[]::new);
        cli.usage(message, update);
        assertEquals(before, settings(), "a refused update changed the settings");
        cli.ok("pv", "create", "d3", "--path", tmp.resolve("d3.img").toString(), "--size", "4M");
        String[] create = Stream.concat(Stream.of("set", "create", "two", "--member", "pv:d3"), Stream.of(options)).toArray(String[]::new);
        cli.usage(message, create);
        cli.refused("no set named two", "cut", "two");
    }

    @Test
    void updateWithoutAnOptionOrOfAnUnknownSetIsRefused() throws Exception {
        cli.usage("nothing to change", "set", "update", "shop");
        cli.refused("no set named nope", "set", "update", "nope", "--cut-every", "1m");
        cli.refused("no set named nope", "cut", "nope");
    }

    @Test
    void aRestoreToABoundaryPastTheHorizonNamesTheBoundarysTime() throws Exception {
        MovingClock clock = MovingClock.at(Instant.now());
        cli.clock = clock;
        write(0, 4096);
        JsonNode first = cli.ok("cut", "shop", "--json").json().get("transaction");
        long boundary = first.get("lastSeq").asLong();
        try (DataDir d = cli.dataDir(); CapturedSet set = d.openSet("shop")) {
            ByteBuffer mib = ByteBuffer.allocate(1 << 20);
            for (int i = 0; i < 70; i++) { // fills and seals the journal's first 64 MiB segment
                set.devices().get(0).write(0, mib.clear(), false);
            }
            set.flush();
        }
        cli.ok("cut", "shop");
        cli.ok("set", "update", "shop", "--keep", "every-write:1s");
        clock.advance(Duration.ofMillis(1500)); // the writes so far are now past the horizon
        write(8192, 4096);
        cli.ok("cut", "shop"); // the horizon is applied after every cut
        JsonNode status = cli.ok("status", "shop", "--json").json().get("sets").get(0);
        assertTrue(status.get("oldestExactSeq").asLong() > boundary + 1, "the first segment went: " + status);

        String plan = cli.ok("restore", "shop", "--to-seq", String.valueOf(boundary), "--dry-run").out();
        assertTrue(plan.contains("to seq " + boundary + " (" + first.get("end").asText() + ")"),
                "a boundary past the horizon is named by its transaction's end: " + plan);
        cli.refused("only the points retention keeps remain there", "restore", "shop", "--to-seq", String.valueOf(boundary + 1), "--dry-run");
    }

    @Test
    void cutMakesATransactionThatLogAndTheCatalogShow() throws Exception {
        JsonNode none = cli.ok("cut", "shop", "--json").json();
        assertTrue(none.get("transaction").isNull());
        assertTrue(cli.ok("cut", "shop").out().contains("nothing written since the last cut"));

        write(4096, 8192);
        write(1 << 20, 4096);
        JsonNode cut = cli.ok("cut", "shop", "--json").json().get("transaction");
        assertEquals(1, cut.get("id").asLong());
        assertEquals(2, cut.get("writes").asLong());
        assertEquals("demand", cut.get("reason").asText());
        assertTrue(cli.ok("cut", "shop").out().contains("nothing written since the last cut"));

        List<TransactionRecord> rows = catalogTransactions();
        assertEquals(1, rows.size(), "the cut inserted its row");
        assertEquals(1, rows.get(0).firstSeq());
        assertEquals(2, rows.get(0).lastSeq());

        JsonNode listed = cli.ok("log", "shop", "--transactions", "--json").json();
        assertEquals(1, listed.get("transactions").size());
        assertEquals(2, listed.get("transactions").get(0).get("lastSeq").asLong());

        JsonNode one = cli.ok("log", "shop", "--transaction", "1", "--json").json().get("transaction");
        assertEquals(2, one.get("increments").size());
        for (JsonNode inc : one.get("increments")) {
            Path file = Path.of(inc.get("file").asText());
            assertTrue(Files.isRegularFile(file), "increment file exists: " + file);
            assertEquals(Files.size(file), inc.get("fileBytes").asLong());
        }
        assertTrue(cli.ok("log", "shop", "--transaction", "1").out().contains("forward"));
        cli.refused("no transaction 9", "log", "shop", "--transaction", "9");
        cli.usage("not both", "log", "shop", "--transaction", "1", "--transactions");

        JsonNode status = cli.ok("status", "shop", "--json").json().get("sets").get(0);
        assertEquals(1, status.get("transactions").asLong());
        assertEquals("on demand only", status.get("cutRules").asText());
        assertTrue(status.has("oldestExactSeq") && status.get("incrementBytes").asLong() > 0, status.toString());
    }

    @Test
    void transactionsCutWhereTheCatalogWasNotToldAreInsertedAtTheNextOpen() throws Exception {
        try (DataDir d = cli.dataDir();
             CapturedSet set = Sets.open(d.volumes(), "shop", CaptureOptions.DEFAULT)) {
            for (int i = 0; i < 3; i++) {
                set.devices().get(1).write(i * 4096L, ByteBuffer.allocate(4096), false);
                set.cut(CutReason.DEMAND).orElseThrow();
            }
        }
        assertTrue(catalogTransactions().isEmpty(), "no listener, no rows");
        cli.ok("status", "shop");
        assertEquals(List.of(1L, 2L, 3L), catalogTransactions().stream().map(TransactionRecord::id).toList());
    }

    @Test
    void theSettingsReachTheSetWhenItIsOpened() throws Exception {
        cli.ok("set", "update", "shop", "--cut-writes", "1000", "--cut-adaptive", "5s..5m", "--codec", "none");
        try (DataDir d = cli.dataDir(); CapturedSet set = d.openSet("shop")) {
            assertEquals("adaptive 5s..5m, 1000 writes", set.transactionService().rules().describe());
        }
        write(0, 4096);
        JsonNode cut = cli.ok("cut", "shop", "--json").json().get("transaction");
        assertEquals("none", cut.get("codec").asText(), cut.toString());
        JsonNode status = cli.ok("status", "shop", "--json").json().get("sets").get(0);
        assertEquals("adaptive 5s..5m, 1000 writes", status.get("cutRules").asText());
    }
}
