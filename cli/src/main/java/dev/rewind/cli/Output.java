package dev.rewind.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Where a command's result goes: a human text on stdout, or one JSON document with {@code --json}. */
public final class Output {

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;
    private final boolean terminal;

    /** {@code terminal}: {@code err} reaches a terminal, where progress is drawn. */
    public Output(PrintWriter out, PrintWriter err, boolean json, boolean terminal) {
        this.out = out;
        this.err = err;
        this.json = json;
        this.terminal = terminal;
    }

    public boolean isJson() {
        return json;
    }

    public PrintWriter out() {
        return out;
    }

    /** Where warnings and progress go: the command's stderr (the client's, for a command the daemon runs). */
    public PrintWriter err() {
        return err;
    }

    /** Prints a line of human output (nothing under {@code --json}). */
    public void line(String format, Object... args) {
        if (!json) {
            out.println(args.length == 0 ? format : String.format(format, args));
            out.flush();
        }
    }

    /** Prints the JSON document (only under {@code --json}). */
    public void json(Object document) {
        if (json) {
            printJson(out, document);
        }
    }

    /** Prints {@code document} to {@code out} as every command prints its JSON. */
    static void printJson(PrintWriter out, Object document) {
        try {
            out.println(Json.MAPPER.writeValueAsString(document));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out.flush();
    }

    /** A progress display on stderr, shown only on a terminal (the client's, for a command the daemon runs) and never under {@code --json}. */
    public Progress progress(String what, long totalBytes) {
        return new Progress(err, what, totalBytes, !json && terminal);
    }

    public static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    /** A time as every command prints it (text and JSON alike), and as {@code --to-time} and {@code @time:} read it back. */
    public static String humanTime(Instant t) {
        return dev.rewind.volumeset.Times.format(t);
    }

    /** Jackson, started only by a command that prints JSON (starting it costs a short command a tenth of a second). */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
}
