package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.capture.CapturedSet;
import dev.rewind.cli.CliHarness.Run;
import dev.rewind.cli.datadir.DataDir;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command run with {@code --json} that fails prints exactly one JSON document on stdout,
 * {@code {"error", "code", "hint"}}, exits with the code it has without {@code --json}, and
 * keeps its one human line on stderr.
 */
class JsonErrorsTest {
    @TempDir
    Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() {
        cli = new CliHarness(tmp);
    }

    /** The one JSON error document of a failed --json run, checked against the run without --json. */
    static JsonNode jsonError(Run json, Run plain) throws IOException {
        assertEquals(plain.exit(), json.exit(), "the exit code is the same with and without --json");
        assertEquals(plain.err(), json.err(), "the human line on stderr stays under --json");
        JsonNode doc;
        try (var parser = new ObjectMapper().createParser(json.out())) {
            doc = new ObjectMapper().readTree(parser);
            assertEquals(null, parser.nextToken(), () -> "stdout holds more than one JSON document: " + json.out());
        }
        assertTrue(doc != null && doc.isObject(), () -> "stdout is not a JSON object: " + json.out());
        assertEquals(List.of("error", "code", "hint"), iterable(doc.fieldNames()), "the fields of the error document");
        assertEquals(json.exit(), doc.get("code").asInt());
        String line = json.err().strip();
        assertTrue(line.startsWith("rewind: " + doc.get("error").asText()), () -> "the error is the stderr line's reason: " + doc + " / " + line);
        assertFalse(doc.get("error").asText().contains("\n"));
        return doc;
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> l = new java.util.ArrayList<>();
        it.forEachRemaining(l::add);
        return l;
    }

    JsonNode failsBothWays(int exit, String... args) throws IOException {
        Run plain = cli.rewind(args);
        assertEquals(exit, plain.exit(), () -> String.join(" ", args) + ": " + plain.err());
        String[] withJson = Stream.concat(Stream.of(args), Stream.of("--json")).toArray(String[]::new);
        return jsonError(cli.rewind(withJson), plain);
    }

    @Test
    void aRefusalUnderJsonIsOneErrorDocumentWithExit1() throws Exception {
        cli.createShop();
        JsonNode doc = failsBothWays(Main.EXIT_REFUSED, "restore", "nope", "--to-seq", "0");
        assertTrue(doc.get("error").asText().contains("no set named nope"), doc.toString());
        doc = failsBothWays(Main.EXIT_REFUSED, "restore", "shop", "--to-bookmark", "missing");
        assertTrue(doc.get("error").asText().contains("no bookmark named missing"), doc.toString());
    }

    @Test
    void badUsageUnderJsonIsAnErrorDocumentWithExit2AndWhereToReadTheUsage() throws Exception {
        cli.createShop();
        JsonNode doc = failsBothWays(Main.EXIT_USAGE, "restore", "shop");
        assertEquals("see 'rewind restore --help'", doc.get("hint").asText());
        doc = failsBothWays(Main.EXIT_USAGE, "restore", "shop", "--to-seq", "1", "--no-such-option");
        assertTrue(doc.get("error").asText().contains("--no-such-option"), doc.toString());
        Run before = cli.rewind("--json", "restore", "shop", "--to-seq", "x");
        assertEquals(Main.EXIT_USAGE, before.exit());
        assertTrue(before.out().contains("\"code\" : 2"), "--json given before a value that does not parse: " + before.out());
        doc = failsBothWays(Main.EXIT_USAGE, "serve", "--tls", "sometimes");
        assertTrue(doc.get("error").asText().contains("--tls 'sometimes'"), "bad usage found while the command runs: " + doc);
    }

    @Test
    void aDataDirThatIsNotThereUnderJsonIsAnErrorDocumentWithNullHint() throws Exception {
        JsonNode doc = failsBothWays(Main.EXIT_REFUSED, "status");
        assertTrue(doc.get("error").asText().contains("no Rewind data dir"), doc.toString());
    }

    @Test
    void corruptionUnderJsonIsAnErrorDocumentWithExit3() throws Exception {
        cli.createShop();
        try (DataDir d = new DataDir(cli.data); CapturedSet set = d.openSet("shop")) {
            for (int i = 0; i < 4; i++) {
                set.device("data").write((long) i << 20, ByteBuffer.wrap(new byte[64 << 10]), true);
            }
        }
        Path segment;
        try (Stream<Path> files = Files.walk(cli.data)) {
            segment = files.filter(p -> p.toString().endsWith(".rwj")).sorted().findFirst().orElseThrow();
        }
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            long offset = 20_000; // inside the first write's payload, records after it
            ch.read(b, offset);
            b.put(0, (byte) ~b.get(0));
            ch.write(b.flip(), offset);
        }
        JsonNode doc = failsBothWays(Main.EXIT_CORRUPT, "verify", "shop");
        assertTrue(doc.get("error").asText().contains(segment.getFileName().toString()), doc.toString());
    }

    @Test
    void anIoErrorUnderJsonIsAnErrorDocumentWithExit4() throws Exception {
        cli.createShop();
        Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
        failsBothWays(Main.EXIT_IO, "restore", "shop", "--to-seq", "0", "--clone-to", file.resolve("clone").toString());
    }
}
