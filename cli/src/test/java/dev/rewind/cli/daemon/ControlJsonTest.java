package dev.rewind.cli.daemon;

import dev.rewind.testfixtures.seed.Seeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The command line's JSON for the control API agrees with Jackson, which the daemon uses, in both directions. */
class ControlJsonTest {
    private static final ObjectMapper JACKSON = new ObjectMapper();

    /** Replay one seed: {@code -Drewind.seed=N}. More seeds: {@code -Drewind.seeds=200}. */
    static LongStream seeds() {
        return Seeds.range(1000, 20);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void randomStringsSurviveBothWays(long seed) throws IOException {
        Random random = new Random(seed);
        for (int i = 0; i < 200; i++) {
            String[] args = new String[random.nextInt(5)];
            for (int j = 0; j < args.length; j++) {
                args[j] = randomString(random);
            }
            String cwd = randomString(random);
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("args", args);
            request.put("cwd", cwd);
            var parsed = JACKSON.readTree(ControlJson.writeObject(request));
            assertArrayEquals(args, JACKSON.convertValue(parsed.get("args"), String[].class), Seeds.describe(seed));
            assertEquals(cwd, parsed.get("cwd").asText(), Seeds.describe(seed));

            String stdout = randomString(random);
            int exit = random.nextInt(256);
            Map<String, Object> reply = ControlJson.parseObject(JACKSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(Map.of("exit", exit, "stdout", stdout, "stderr", "")));
            assertEquals(stdout, reply.get("stdout"), Seeds.describe(seed));
            assertEquals((long) exit, reply.get("exit"), Seeds.describe(seed));
        }
    }

    @Test
    void parsesEveryKindOfValue() {
        Map<String, Object> m = ControlJson.parseObject(" {\"a\": [1, -2, \"x\\u00e9\\n\"], \"b\": {\"c\": null}, \"d\": true, \"e\": false} ");
        assertEquals(List.of(1L, -2L, "x\u00e9\n"), m.get("a"));
        assertEquals(java.util.Collections.singletonMap("c", null), m.get("b"));
        assertEquals(Boolean.TRUE, m.get("d"));
        assertEquals(Boolean.FALSE, m.get("e"));
    }

    @Test
    void malformedJsonIsRefused() {
        for (String bad : new String[] {"", "[]", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":\"x}", "{\"a\":1} x", "{\"a\":\"\\q\"}", "{a:1}"}) {
            assertThrows(IllegalArgumentException.class, () -> ControlJson.parseObject(bad), bad);
        }
    }

    @Test
    void daemonJsonIsReadBack(@TempDir Path dir) throws IOException {
        DaemonFiles.Info info = new DaemonFiles.Info(ProcessHandle.current().parent().orElseThrow().pid(),
                dir.resolve("control.sock").toString(), dir.resolve("nbd.sock").toString(), null);
        DaemonFiles.write(dir, info, "t0ken");
        assertEquals(info, DaemonFiles.readLive(dir).orElseThrow());
        assertEquals("t0ken", DaemonFiles.readToken(dir));
        assertEquals(info.pid(), JACKSON.readTree(dir.resolve(DaemonFiles.INFO_FILE).toFile()).get("pid").asLong(),
                "daemon.json stays plain JSON for scripts");
    }

    @Test
    void repliesAreReadWithLengthChunkedOrUntilClose() throws IOException {
        String json = "{\"exit\":0,\"stdout\":\"h\u00e9\",\"stderr\":\"\"}";
        int length = json.getBytes(StandardCharsets.UTF_8).length;
        assertEquals(json, read("HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\nContent-Type: application/json\r\n\r\n" + json).body());
        assertEquals(json, read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n" + json.substring(0, 5) + "\r\n"
                + Integer.toHexString(json.getBytes(StandardCharsets.UTF_8).length - 5) + "\r\n" + json.substring(5) + "\r\n0\r\n\r\n").body());
        ControlClient.Response r = read("HTTP/1.1 401 Unauthorized\r\n\r\n{\"error\":\"missing or wrong token\"}");
        assertEquals(401, r.status());
        assertEquals("{\"error\":\"missing or wrong token\"}", r.body());
        assertThrows(IOException.class, () -> read("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}"));
        assertThrows(IOException.class, () -> read("SSH-2.0-OpenSSH\r\n\r\n"));
    }

    private static ControlClient.Response read(String raw) throws IOException {
        return ControlClient.readResponse(new ByteArrayInputStream(raw.getBytes(StandardCharsets.UTF_8)));
    }

    private static String randomString(Random random) {
        StringBuilder b = new StringBuilder();
        int n = random.nextInt(40);
        for (int i = 0; i < n; i++) {
            switch (random.nextInt(4)) {
                case 0 -> b.append((char) random.nextInt(0x20));
                case 1 -> b.append("\"\\/'{}[]:,".charAt(random.nextInt(10)));
                case 2 -> b.append((char) (0x80 + random.nextInt(0x3000)));
                default -> b.append((char) (' ' + random.nextInt(95)));
            }
        }
        return b.toString();
    }
}
