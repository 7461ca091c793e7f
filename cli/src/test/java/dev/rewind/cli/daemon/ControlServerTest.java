package dev.rewind.cli.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The control API as a client that is not {@code rewind} would meet it: on the data dir's
 * owner-only socket, every request gets an HTTP answer. Without the token 401; another path
 * 404, another method 405; a body that is not what {@code /v1/run} takes, 400 with one line
 * saying what to send; and none of those runs a command.
 */
class ControlServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path data;
    private ControlServer server;
    private final List<List<String>> ran = new ArrayList<>();
    private String token;

    /** What the next command does after it is recorded; by default it prints where it ran. */
    private volatile ControlServer.CommandRunner then = (call, out, err) -> {
        out.print("ran in " + call.workingDir());
        return 0;
    };

    @BeforeEach
    void start() throws IOException {
        server = ControlServer.start(data, (call, out, err) -> {
            synchronized (ran) {
                ran.add(List.of(call.args()));
            }
            return then.run(call, out, err);
        }, data.resolve("nbd.sock").toString(), null);
        token = DaemonFiles.readToken(data);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void theSocketAndTokenAreTheOwnersAlone() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(server.socket())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve(DaemonFiles.TOKEN_FILE))));
    }

    @Test
    void aWellFormedRequestRunsTheCommandInTheClientsDirectory() throws IOException {
        Answer a = post("/v1/run", "Bearer " + token, "{\"args\":[\"set\",\"list\"],\"cwd\":\"/srv\"}");
        assertEquals(200, a.status, a.body);
        JsonNode j = JSON.readTree(a.body);
        assertEquals(0, j.get("exit").asInt());
        assertEquals("ran in /srv", j.get("stdout").asText());
        assertEquals(List.of(List.of("set", "list")), ran);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not JSON|{args: [set list]|400|the body is not JSON",
        "no cwd|{\"args\":[\"set\",\"list\"]}|400|the body needs \"args\" (an array of strings) and \"cwd\"",
        "no args|{\"cwd\":\"/srv\"}|400|the body needs \"args\"",
        "a JSON array|[\"set\",\"list\"]|400|the body needs \"args\"",
        "args not strings|{\"args\":[\"set\",1],\"cwd\":\"/srv\"}|400|\"args\" must hold strings only",
        "relative cwd|{\"args\":[],\"cwd\":\"srv\"}|400|\"cwd\" must be an absolute path",
        "terminal not boolean|{\"args\":[],\"cwd\":\"/\",\"terminal\":\"yes\"}|400|\"terminal\" must be true or false",
        "empty body|''|400|the body needs \"args\"",
    })
    void aMalformedBodyFromATokenHolderGetsA400WithOneLineAndRunsNothing(String what, String body, int status, String error)
            throws IOException {
        Answer a = post("/v1/run", "Bearer " + token, body);
        assertEquals(status, a.status, what + ": " + a.body);
        String message = JSON.readTree(a.body).get("error").asText();
        assertTrue(message.startsWith(error), what + ": " + message);
        assertEquals(1, message.lines().count(), message);
        assertTrue(ran.isEmpty(), "a malformed request ran " + ran);
    }

    @Test
    void withoutTheTokenNothingRunsWhateverTheBody() throws IOException {
        assertEquals(401, post("/v1/run", null, "{\"args\":[\"set\",\"list\"],\"cwd\":\"/srv\"}").status);
        assertEquals(401, post("/v1/run", "Bearer " + token.substring(1) + "x", "{\"args\":[],\"cwd\":\"/\"}").status);
        assertEquals(401, post("/v1/run", null, null, "nonsense").status, "the token is checked before the body is read");
        assertTrue(ran.isEmpty(), ran.toString());
    }

    @Test
    void anotherPathOrMethodIsNamed() throws IOException {
        Answer notFound = post("/v2/run", "Bearer " + token, "{}");
        assertEquals(404, notFound.status);
        assertTrue(notFound.body.contains("POST /v1/run"), notFound.body);
        Answer get = exchange("GET /v1/run HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
        assertEquals(405, get.status, get.body);
    }

    @Test
    void whatIsNotHttpOrHasNoLengthIsAnsweredToo() throws IOException {
        Answer garbage = exchange("\u0000\u0001hello\r\n\r\n");
        assertEquals(400, garbage.status, garbage.body);
        assertTrue(garbage.body.contains("not an HTTP request line"), garbage.body);
        Answer noLength = exchange("POST /v1/run HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\n\r\n{}");
        assertEquals(400, noLength.status, noLength.body);
        assertTrue(noLength.body.contains("Content-Length"), noLength.body);
        Answer shortBody = exchange("POST /v1/run HTTP/1.1\r\nAuthorization: Bearer " + token
                + "\r\nContent-Length: 100\r\n\r\n{\"args\":[]}", true);
        assertEquals(400, shortBody.status, shortBody.body);
        assertTrue(shortBody.body.contains("the body ended after 11 of 100 bytes"), shortBody.body);
        assertTrue(ran.isEmpty(), ran.toString());
    }

    @Test
    void aStreamingClientGetsEachLineWhileTheCommandRunsThenTheExitCode() throws Exception {
        CountDownLatch firstSeen = new CountDownLatch(1);
        then = (call, out, err) -> {
            out.println("step 1: seq 40 holds");
            try {
                assertTrue(firstSeen.await(30, TimeUnit.SECONDS), "the client never saw the first line");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            err.print("\rrestoring: 50%");
            err.flush();
            out.println("terminal " + call.terminal());
            return 3;
        };
        byte[] body = "{\"args\":[\"bisect\",\"shop\"],\"cwd\":\"/srv\",\"terminal\":true}".getBytes(StandardCharsets.UTF_8);
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(server.socket()));
            write(c, "POST /v1/run HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\nAccept: " + ControlServer.STREAM_TYPE
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n" + new String(body, StandardCharsets.UTF_8));
            InputStream in = new BufferedInputStream(Channels.newInputStream(c));
            ControlClient.Head head = ControlClient.readHead(in);
            assertEquals(200, head.status());
            assertEquals(ControlServer.STREAM_TYPE, head.contentType());
            assertEquals("step 1: seq 40 holds\n", JSON.readTree(ControlClient.readLine(in)).get("stdout").asText());
            firstSeen.countDown();
            assertEquals("\rrestoring: 50%", JSON.readTree(ControlClient.readLine(in)).get("stderr").asText());
            assertEquals("terminal true\n", JSON.readTree(ControlClient.readLine(in)).get("stdout").asText());
            assertEquals(3, JSON.readTree(ControlClient.readLine(in)).get("exit").asInt());
            assertEquals(-1, in.read(), "nothing after the exit code");
        }
    }

    @Test
    void aCommandThatFailsInsideTheDaemonEndsTheStreamWithExit70AndALine() throws Exception {
        then = (call, out, err) -> {
            out.println("before");
            throw new IllegalStateException("boom");
        };
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = client().forward(new String[] {"x"}, new PrintWriter(out), new PrintWriter(err));
        assertEquals(70, exit);
        assertEquals("before\n", out.toString());
        assertTrue(err.toString().startsWith("rewind: internal error in rewind serve: java.lang.IllegalStateException: boom"), err.toString());
    }

    @Test
    void theCommandLineClientPrintsWhatTheDaemonPrintsAsItComes() throws Exception {
        CountDownLatch clientPrinted = new CountDownLatch(1);
        then = (call, out, err) -> {
            out.println("step 1");
            try {
                assertTrue(clientPrinted.await(30, TimeUnit.SECONDS), "the client printed nothing while the command ran");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            err.println("a warning");
            out.println("{\"json\": \"with \\\"quotes\\\" and \\n\"}");
            return 0;
        };
        StringBuilder seen = new StringBuilder();
        java.io.Writer watching = new java.io.Writer() {
            @Override
            public void write(char[] c, int off, int len) {
                synchronized (seen) {
                    seen.append(c, off, len);
                }
            }

            @Override
            public void flush() {
                synchronized (seen) {
                    if (seen.toString().contains("step 1")) {
                        clientPrinted.countDown();
                    }
                }
            }

            @Override
            public void close() {
            }
        };
        StringWriter err = new StringWriter();
        int exit = client().forward(new String[] {"bisect"}, new PrintWriter(watching), new PrintWriter(err));
        assertEquals(0, exit);
        assertEquals("step 1\n{\"json\": \"with \\\"quotes\\\" and \\n\"}\n", seen.toString());
        assertEquals("a warning\n", err.toString());
    }

    @Test
    void aCommandIsToldWhenItsStreamingClientHasGoneAndABufferedOneNever() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch toldGone = new CountDownLatch(1);
        then = (call, out, err) -> {
            assertTrue(!call.clientGone().getAsBoolean(), "gone before it went");
            running.countDown();
            for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); System.nanoTime() < end; ) {
                if (call.clientGone().getAsBoolean()) {
                    toldGone.countDown();
                    return 130;
                }
                Thread.onSpinWait();
            }
            return 0;
        };
        byte[] body = "{\"args\":[\"bisect\"],\"cwd\":\"/srv\"}".getBytes(StandardCharsets.UTF_8);
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(server.socket()));
            write(c, "POST /v1/run HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\nAccept: " + ControlServer.STREAM_TYPE
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n" + new String(body, StandardCharsets.UTF_8));
            assertTrue(running.await(30, TimeUnit.SECONDS), "the command never ran");
        } // the client goes, as on Ctrl-C
        assertTrue(toldGone.await(30, TimeUnit.SECONDS), "the command was never told its client had gone");

        then = (call, out, err) -> {
            out.print(call.clientGone().getAsBoolean() ? "gone" : "here");
            return 0;
        };
        assertEquals("here", JSON.readTree(post("/v1/run", "Bearer " + token, "{\"args\":[],\"cwd\":\"/\"}").body)
                .get("stdout").asText(), "a client that waits for the whole answer is never taken for gone");
    }

    @Test
    void aDaemonThatDoesNotAnswerIsOneLineSayingWhatToDo() throws Exception {
        server.close();
        ControlClient stale = client();
        dev.rewind.volumeset.RewindException e = org.junit.jupiter.api.Assertions.assertThrows(dev.rewind.volumeset.RewindException.class,
                () -> stale.forward(new String[] {"status"}, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())));
        assertTrue(e.getMessage().contains("does not answer on its control socket") && e.getMessage().endsWith("stop it or remove its daemon.json"),
                e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void aCommandThatFailsInTheDaemonUnderJsonStreamsOneErrorDocumentAndItsExitCode() throws Exception {
        then = (call, out, err) -> new dev.rewind.cli.DaemonRequest(data, call.workingDir(), false, call.clientGone(), null, null,
                java.time.Clock.systemUTC())
                .run(call.args(), out, err);
        Path other = data.resolveSibling(data.getFileName() + "-other");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = client().forward(new String[] {"--data", other.toString(), "status", "--json"}, new PrintWriter(out), new PrintWriter(err));
        assertEquals(1, exit, err.toString());
        JsonNode refused = JSON.readTree(out.toString());
        assertTrue(refused.get("error").asText().startsWith("this rewind serve runs for data dir " + data), refused.toString());
        assertEquals(1, refused.get("code").asInt());
        assertTrue(refused.get("hint").isNull(), refused.toString());
        assertEquals("rewind: " + refused.get("error").asText() + "\n", err.toString(), "the human line still reaches stderr");

        StringWriter usageOut = new StringWriter();
        exit = client().forward(new String[] {"--data", data.toString(), "--json", "restore", "shop"}, new PrintWriter(usageOut),
                new PrintWriter(new StringWriter()));
        assertEquals(2, exit);
        JsonNode usage = JSON.readTree(usageOut.toString());
        assertEquals(2, usage.get("code").asInt());
        assertEquals("see 'rewind restore --help'", usage.get("hint").asText());
    }

    @Test
    void theLogRecordsWhoRanARestoreWhenItStartedAndHowItEndedAndNothingForAStatus() throws Exception {
        ch.qos.logback.classic.Logger audit = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ControlServer.AUDIT_LOG);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen = new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        audit.addAppender(seen);
        try {
            then = (call, out, err) -> call.args()[2].equals("restore") ? 3 : 0;
            StringWriter ignored = new StringWriter();
            client().forward(new String[] {"--data", data.toString(), "status", "--json"}, new PrintWriter(ignored), new PrintWriter(ignored));
            assertEquals(List.of(), seen.list, "a status is not recorded");
            int exit = client().forward(new String[] {"--data", data.toString(), "restore", "shop", "--to-seq", "1"}, new PrintWriter(ignored),
                    new PrintWriter(ignored));
            assertEquals(3, exit);
            String who = "asked by user " + System.getProperty("user.name") + ", group ";
            String pid = ", pid " + ProcessHandle.current().pid() + " (as the client gives it)";
            List<String> lines = seen.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
            assertEquals(2, lines.size(), lines.toString());
            String command = "rewind --data " + data + " restore shop --to-seq 1";
            assertTrue(lines.get(0).startsWith("INFO control: " + command + " started, " + who) && lines.get(0).endsWith(pid), lines.get(0));
            assertTrue(lines.get(1).startsWith("INFO control: " + command + " ended with exit 3 after ") && lines.get(1).contains(who)
                    && lines.get(1).endsWith(pid), lines.get(1));
        } finally {
            audit.detachAppender(seen);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "restore shop --to-seq 1|restore",
        "--data /d --json restore shop --resume|restore",
        "sandbox start shop probe|sandbox start",
        "--json sandbox stop shop probe|sandbox stop",
        "bisect shop --good 1 --check q|bisect",
        "sandbox list|",
        "status shop|",
        "log shop --json|",
    })
    void theCommandsTheLogRecordsAreRestoreBisectAndTheSandboxesLife(String args, String audited) {
        assertEquals(audited, ControlServer.auditedCommand(args.split(" ")));
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void fiveHundredIdleConnectionsKeepNoCommandFromAnsweringAtOnce() throws Exception {
        List<SocketChannel> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 500; i++) {
                SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(server.socket()));
                idle.add(c);
                if (i % 2 == 1) {
                    write(c, "POST /v1/run HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\nContent-Length: 40\r\n\r\n{\"args\"");
                }
            }
            for (String[] args : List.of(new String[] {"status"}, new String[] {"set", "list"}, new String[] {"log", "s"},
                    new String[] {"bookmark", "list", "s"}, new String[] {"schedule"})) {
                long started = System.nanoTime();
                StringWriter out = new StringWriter();
                assertEquals(0, client().forward(args, new PrintWriter(out), new PrintWriter(new StringWriter())), String.join(" ", args));
                long tookMillis = (System.nanoTime() - started) / 1_000_000;
                assertTrue(out.toString().startsWith("ran in"), out.toString());
                assertTrue(tookMillis < 3000, "rewind " + String.join(" ", args) + " beside 500 idle connections took " + tookMillis + " ms");
            }
        } finally {
            for (SocketChannel c : idle) {
                c.close();
            }
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(60)
    void aDaemonThatAcceptsButNeverAnswersIsOneLineWithinTheAnswerDeadline() throws Exception {
        Path hung = data.resolve("hung.sock");
        try (java.nio.channels.ServerSocketChannel never = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            never.bind(UnixDomainSocketAddress.of(hung), 4); // connections wait in the backlog, never accepted or answered
            ControlClient c = new ControlClient(new DaemonFiles.Info(ProcessHandle.current().pid(), hung.toString(), null, null), token);
            long started = System.nanoTime();
            dev.rewind.volumeset.RewindException e = org.junit.jupiter.api.Assertions.assertThrows(dev.rewind.volumeset.RewindException.class,
                    () -> c.forward(new String[] {"status"}, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())));
            long tookMillis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(e.getMessage().contains("does not answer on its control socket") && e.getMessage().contains("no answer within")
                    && e.getMessage().endsWith("stop it or remove its daemon.json"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
            assertTrue(tookMillis >= ControlClient.ANSWER_DEADLINE.toMillis() - 100
                    && tookMillis < ControlClient.ANSWER_DEADLINE.toMillis() + 5000, "gave up after " + tookMillis + " ms");
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(30)
    void aConnectionThatDoesNotSendItsWholeRequestIsClosedAfterTheRequestDeadline() throws Exception {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(server.socket()))) {
            write(c, "POST /v1/run HTTP/1.1\r\n");
            long started = System.nanoTime();
            InputStream in = Channels.newInputStream(c);
            assertEquals(-1, in.read(), "closed without an answer");
            long tookMillis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(tookMillis >= ControlServer.REQUEST_DEADLINE.toMillis() - 100
                    && tookMillis < ControlServer.REQUEST_DEADLINE.toMillis() + 5000, "closed after " + tookMillis + " ms");
        }
        synchronized (ran) {
            assertTrue(ran.isEmpty(), "nothing ran: " + ran);
        }
    }

    /** The command line's client of this server (find() skips a daemon in its own process). */
    private ControlClient client() {
        return new ControlClient(new DaemonFiles.Info(ProcessHandle.current().pid(), server.socket().toString(), null, null), token);
    }

    private static void write(SocketChannel c, String text) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            c.write(out);
        }
    }

    private record Answer(int status, String body) {
    }

    private Answer post(String path, String authorization, String body) throws IOException {
        return post(path, authorization, body, null);
    }

    private Answer post(String path, String authorization, String body, String rawBody) throws IOException {
        String b = rawBody != null ? rawBody : body;
        byte[] bytes = b.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: rewind\r\n"
                + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                + "Content-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n";
        return exchange(head + b);
    }

    private Answer exchange(String request) throws IOException {
        return exchange(request, false);
    }

    /** Sends {@code request} on the control socket and reads the whole answer; {@code halfClose} ends the request stream first. */
    private Answer exchange(String request, boolean halfClose) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(server.socket()));
            ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                c.write(out);
            }
            if (halfClose) {
                c.shutdownOutput();
            }
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (c.read(in) >= 0) {
                all.write(in.array(), 0, in.position());
                in.clear();
            }
            String answer = all.toString(StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 "), "no HTTP answer: '" + answer + "'");
            int status = Integer.parseInt(answer.substring(9, 12));
            int bodyAt = answer.indexOf("\r\n\r\n");
            assertTrue(bodyAt > 0 && answer.contains("Content-Type: application/json"), answer);
            return new Answer(status, answer.substring(bodyAt + 4));
        }
    }
}
