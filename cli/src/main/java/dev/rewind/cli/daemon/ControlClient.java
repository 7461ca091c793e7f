package dev.rewind.cli.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The command line's side of the control API: while {@code rewind serve} runs for a data
 * dir, commands are sent to it (it holds the sets open) and its output is printed here.
 */
public final class ControlClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final DaemonFiles.Info info;
    private final String token;

    private ControlClient(DaemonFiles.Info info, String token) {
        this.info = info;
        this.token = token;
    }

    /** The running daemon of {@code dataDir}, if any. */
    public static Optional<ControlClient> find(Path dataDir) throws IOException {
        Optional<DaemonFiles.Info> info = DaemonFiles.readLive(dataDir);
        if (info.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ControlClient(info.get(), DaemonFiles.readToken(dataDir)));
    }

    /** Runs {@code args} in the daemon; prints what it printed; returns its exit code. */
    public int forward(String[] args, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(Map.of("args", args, "cwd", Path.of("").toAbsolutePath().toString()));
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + info.controlHost() + ":" + info.controlPort() + "/v1/run"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofHours(24))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> response;
        try {
            response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                    .send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RewindException("rewind serve (pid " + info.pid() + ") does not answer on its control port "
                    + info.controlPort() + " (" + e.getMessage() + "); stop it or remove its daemon.json");
        }
        if (response.statusCode() != 200) {
            throw new RewindException("rewind serve (pid " + info.pid() + ") refused the command: HTTP " + response.statusCode()
                    + " " + response.body().strip());
        }
        JsonNode r = JSON.readTree(response.body());
        out.print(r.get("stdout").asText());
        out.flush();
        err.print(r.get("stderr").asText());
        err.flush();
        return r.get("exit").asInt();
    }
}
