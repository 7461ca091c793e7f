package dev.rewind.dbadapters.coordinate;

import java.io.IOException;

/**
 * How a coordinated restore stops the database and starts it again: the attachment's shell
 * commands ({@link #ofCommands}), or, for a database running in the same process (H2 on a
 * set), code that closes it and opens it again. Each returns a one-line detail for the step's
 * report (may be empty); a failure is an exception whose message says what went wrong.
 */
public interface DatabaseControl {
    /** Stops the database and releases its volumes; returns once nothing uses them. */
    String stop() throws IOException;

    /** Puts the volumes back in use and starts the database. */
    String start() throws IOException;

    /** The attachment's stop and start commands, each run by {@link ShellCommand} with {@code REWIND_SET} set to {@code setName}. */
    static DatabaseControl ofCommands(String setName, String stopCommand, String startCommand) {
        return new DatabaseControl() {
            @Override
            public String stop() throws IOException {
                return lastLineOf(new ShellCommand("stop command", stopCommand, setName).run());
            }

            @Override
            public String start() throws IOException {
                return lastLineOf(new ShellCommand("start command", startCommand, setName).run());
            }
        };
    }

    private static String lastLineOf(ShellCommand.Output out) {
        String text = out.text().strip();
        return text.isEmpty() ? "" : ShellCommand.lastLine(text);
    }
}
