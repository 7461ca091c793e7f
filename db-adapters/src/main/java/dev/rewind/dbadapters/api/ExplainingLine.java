package dev.rewind.dbadapters.api;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The line of a failed command's output, or of a database server's log, that explains the
 * failure, for a one-line message: a wrapper's or a server's last words ("exiting",
 * "Aborting", "database system is shut down") would hide the reason printed before them.
 */
public final class ExplainingLine {
    /** Words that mark the line of a command's output that says what went wrong. */
    private static final Pattern TELLING = Pattern.compile(
            "(?i)\\b(error|fatal|panic|failed|failure|denied|cannot|can't|could not|unable|not found|no such|refused|timed? ?out)\\b");
    /** A server giving up: PostgreSQL's PANIC or FATAL, MariaDB's [ERROR]. */
    private static final Pattern SERVER_GIVES_UP = Pattern.compile("\\b(PANIC|FATAL):|\\[ERROR]");
    /** A PostgreSQL error that is not fatal to the server (a statement's); said when nothing gave up. */
    private static final Pattern SERVER_ERROR = Pattern.compile("\\bERROR:");
    /** PostgreSQL's FATAL to a client that connected too early or too late, not to the server. */
    private static final Pattern CLIENT_TURNED_AWAY = Pattern.compile("FATAL:\\s+the database system is (starting up|shutting down|in recovery mode"
            + "|not yet accepting connections|not accepting connections)");
    /** PostgreSQL's FATAL about its configuration file; the LOG lines before it name the bad settings. */
    private static final Pattern CONFIG_FILE_ERRORS = Pattern.compile("FATAL:\\s+configuration file .* contains errors");
    private static final Pattern BAD_SETTING = Pattern.compile("LOG:\\s+(.*\\bparameter\\b.*)");

    private ExplainingLine() {
    }

    /**
     * Of a failed command's output: the last line that says what went wrong (an error, a
     * refusal), with the last line after it when there is one; else the last line.
     */
    public static String ofCommandOutput(String text) {
        String[] lines = text.strip().split("\\R");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (TELLING.matcher(lines[i]).find()) {
                String telling = lines[i].strip();
                String last = lines[lines.length - 1].strip();
                return i == lines.length - 1 || last.isEmpty() ? telling : telling + " (last: " + last + ")";
            }
        }
        String last = lines[lines.length - 1].strip();
        return last.isEmpty() ? "(no output)" : last;
    }

    /**
     * Of a database server's log: its first PANIC or FATAL (PostgreSQL; a FATAL that turned a
     * client away while it started is not one) or [ERROR] (MariaDB), which names the cause, the
     * lines after it being the shutdown; a configuration file's errors with the first bad
     * setting named before it. Else its first ERROR, else as {@link #ofCommandOutput}.
     */
    public static String ofServerLog(String log) {
        List<String> lines = log.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (givesUp(line)) {
                return CONFIG_FILE_ERRORS.matcher(line).find() ? withBadSetting(line.strip(), lines.subList(0, i)) : line.strip();
            }
        }
        return lines.stream().filter(l -> SERVER_ERROR.matcher(l).find()).findFirst().map(String::strip)
                .orElseGet(() -> ofCommandOutput(log));
    }

    /** Whether a server log line says why the server gave up (see {@link #ofServerLog}). */
    public static boolean givesUp(String line) {
        return SERVER_GIVES_UP.matcher(line).find() && !CLIENT_TURNED_AWAY.matcher(line).find();
    }

    private static String withBadSetting(String fatal, List<String> before) {
        for (String line : before) {
            var m = BAD_SETTING.matcher(line);
            if (m.find()) {
                return fatal + ": " + m.group(1).strip();
            }
        }
        return fatal;
    }
}
