package dev.rewind.cli.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's local control API: one endpoint, {@code POST /v1/run}, that runs a
 * {@code rewind} command line against the daemon's open sets. Loopback only; every request
 * must carry the token from the data dir's 0600 {@code daemon.token}. The command line
 * itself is run by the {@link CommandRunner} the CLI hands in.
 */
public final class ControlServer implements AutoCloseable {
    /** Runs one {@code rewind} command line for a client of the control API. */
    @FunctionalInterface
    public interface CommandRunner {
        /** Runs {@code args} with relative paths resolved against the client's {@code workingDir}; returns the exit code. */
        int run(Path workingDir, String[] args, PrintWriter out, PrintWriter err);
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer http;
    private final ExecutorService executor;
    private final Path dataDir;

    private ControlServer(HttpServer http, ExecutorService executor, Path dataDir) {
        this.http = http;
        this.executor = executor;
        this.dataDir = dataDir;
    }

    /** Starts on a free loopback port and publishes daemon.json and daemon.token. */
    public static ControlServer start(Path dataDir, CommandRunner commands, String nbdAddress) throws IOException {
        String token = DaemonFiles.newToken();
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        AtomicInteger n = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "rewind-control-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(executor);
        http.createContext("/v1/run", exchange -> {
            try (exchange) {
                String auth = exchange.getRequestHeaders().getFirst("Authorization");
                if (auth == null || !MessageDigest.isEqual(expected, auth.getBytes(StandardCharsets.UTF_8))) {
                    respond(exchange, 401, "{\"error\":\"missing or wrong token\"}");
                    return;
                }
                if (!"POST".equals(exchange.getRequestMethod())) {
                    respond(exchange, 405, "{\"error\":\"POST only\"}");
                    return;
                }
                JsonNode body = JSON.readTree(exchange.getRequestBody().readNBytes(1 << 20));
                String[] args = JSON.convertValue(body.get("args"), String[].class);
                Path cwd = Path.of(body.get("cwd").asText());
                StringWriter out = new StringWriter();
                StringWriter err = new StringWriter();
                int exit = commands.run(cwd, args, new PrintWriter(out, true), new PrintWriter(err, true));
                respond(exchange, 200, JSON.writeValueAsString(Map.of("exit", exit, "stdout", out.toString(), "stderr", err.toString())));
            } catch (RuntimeException e) {
                respond(exchange, 400, JSON.writeValueAsString(Map.of("error", String.valueOf(e.getMessage()))));
            }
        });
        http.start();
        DaemonFiles.write(dataDir, new DaemonFiles.Info(ProcessHandle.current().pid(), "127.0.0.1", http.getAddress().getPort(), nbdAddress),
                token);
        return new ControlServer(http, executor, dataDir);
    }

    private static void respond(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(bytes);
        }
    }

    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        DaemonFiles.remove(dataDir);
        http.stop(1);
        executor.shutdownNow();
    }
}
