package dev.rewind.dbadapters.mariadb;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the text {@code mariadb-binlog --base64-output=decode-rows} prints for one binlog
 * file (run with {@code TZ=UTC}) and hands over every statement it records with its text
 * ({@link BinlogStatement}), line by line, so a binlog of any size streams through.
 *
 * <pre>
 *   # at 1198                                          event start offsets, queued: Annotate_rows
 *   #261126  5:11:25 server id 1  end_log_pos 1240 ... GTID 0-1-6 ddl      and Table_map print both
 *   # at 1240                                          "# at" lines before their two headers
 *   #261126  5:11:25 server id 1  end_log_pos 1329 ... Query thread_id=5 ...
 *   SET TIMESTAMP=1795669885[.123456]/*!*&#47;;          the statement's start (microseconds if used)
 *   SET @@session... /*!*&#47;;   use `shop`/*!*&#47;;     session setup, one line each
 *   truncate table shop.orders                          the statement, one or more lines
 *   /*!*&#47;;                                             its end
 *   #261126 ... Annotate_rows:                         a row event's statement:
 *   #Q> delete from account                             one "#Q> " line per line of text
 * </pre>
 */
final class BinlogTextParser {
    private static final Pattern AT = Pattern.compile("^# at (\\d+)$");
    private static final Pattern HEADER = Pattern.compile(
            "^#(\\d{2})(\\d{2})(\\d{2})\\s+(\\d{1,2}):(\\d{2}):(\\d{2})\\s+server id\\s+\\d+\\s+end_log_pos\\s+\\d+(?:\\s+CRC32\\s+0x[0-9a-fA-F]+)?\\s+(.*)$");
    private static final Pattern GTID = Pattern.compile("^GTID (\\d+-\\d+-\\d+)\\b.*");
    private static final Pattern TIMESTAMP = Pattern.compile("^SET TIMESTAMP=(\\d+)(?:\\.(\\d{1,6}))?/\\*!\\*/;$");
    private static final String END = "/*!*/;";
    private static final String ANNOTATION = "#Q> ";
    private static final Set<String> NOT_STATEMENTS = Set.of("begin", "commit", "rollback", "start transaction");

    private enum State { NONE, QUERY_SETUP, QUERY_TEXT, ANNOTATE }

    private final String file;
    private final Consumer<BinlogStatement> out;
    private final ArrayDeque<Long> pendingOffsets = new ArrayDeque<>();
    private State state = State.NONE;
    private String gtid;
    private long eventOffset;
    private Instant eventTime;
    private boolean exactTime;
    private final List<String> text = new ArrayList<>();

    BinlogTextParser(String file, Consumer<BinlogStatement> out) {
        this.file = file;
        this.out = out;
    }

    /** Parses a whole output (for tests). */
    static List<BinlogStatement> parse(String file, String output) {
        List<BinlogStatement> found = new ArrayList<>();
        BinlogTextParser parser = new BinlogTextParser(file, found::add);
        output.lines().forEach(parser::line);
        parser.end();
        return found;
    }

    void line(String line) {
        switch (state) {
            case QUERY_SETUP -> {
                Matcher ts = TIMESTAMP.matcher(line);
                if (ts.matches()) {
                    eventTime = Instant.ofEpochSecond(Long.parseLong(ts.group(1)), micros(ts.group(2)) * 1000L);
                    exactTime = ts.group(2) != null;
                    return;
                }
                if (line.endsWith(END) || isFrame(line)) {
                    if (isFrame(line)) {
                        state = State.NONE;
                        frame(line);
                    }
                    return;
                }
                state = State.QUERY_TEXT;
                text.add(line);
                return;
            }
            case QUERY_TEXT -> {
                if (line.equals(END)) {
                    emit();
                    state = State.NONE;
                } else {
                    text.add(line);
                }
                return;
            }
            case ANNOTATE -> {
                if (line.startsWith(ANNOTATION) || line.equals("#Q>")) {
                    text.add(line.length() > ANNOTATION.length() ? line.substring(ANNOTATION.length()) : "");
                    return;
                }
                emit();
                state = State.NONE;
            }
            case NONE -> {
                // fall through to the frame lines
            }
        }
        frame(line);
    }

    /** Ends the output: a statement still open (a file cut short) is dropped, an annotation is kept. */
    void end() {
        if (state == State.ANNOTATE) {
            emit();
        }
        state = State.NONE;
        text.clear();
    }

    private static boolean isFrame(String line) {
        return AT.matcher(line).matches() || HEADER.matcher(line).matches();
    }

    private void frame(String line) {
        Matcher at = AT.matcher(line);
        if (at.matches()) {
            pendingOffsets.add(Long.parseLong(at.group(1)));
            return;
        }
        Matcher h = HEADER.matcher(line);
        if (!h.matches()) {
            return;
        }
        Long offset = pendingOffsets.poll();
        String type = h.group(7);
        Matcher g = GTID.matcher(type);
        if (g.matches()) {
            gtid = g.group(1);
            return;
        }
        if (offset == null) {
            return;
        }
        eventOffset = offset;
        eventTime = LocalDateTime.of(2000 + Integer.parseInt(h.group(1)), Integer.parseInt(h.group(2)), Integer.parseInt(h.group(3)),
                Integer.parseInt(h.group(4)), Integer.parseInt(h.group(5)), Integer.parseInt(h.group(6))).toInstant(ZoneOffset.UTC);
        exactTime = false;
        text.clear();
        if (type.startsWith("Query")) {
            state = State.QUERY_SETUP;
        } else if (type.startsWith("Annotate_rows")) {
            state = State.ANNOTATE;
        }
    }

    private void emit() {
        String statement = String.join("\n", text).strip();
        text.clear();
        if (statement.isEmpty() || NOT_STATEMENTS.contains(StatementPattern.normalize(statement).toLowerCase(Locale.ROOT))) {
            return;
        }
        out.accept(new BinlogStatement(new BinlogPosition(file, eventOffset), eventTime, exactTime, gtid, statement));
    }

    private static long micros(String fraction) {
        if (fraction == null) {
            return 0;
        }
        return Long.parseLong((fraction + "000000").substring(0, 6));
    }
}
