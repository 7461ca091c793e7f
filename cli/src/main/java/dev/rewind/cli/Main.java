package dev.rewind.cli;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.MalformedValueException;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;

/**
 * Entry point. Every failure becomes one line on stderr and an exit code, here and
 * nowhere else; a stack trace only for internal errors, and only with REWIND_DEBUG=1.
 * Under {@code --json} the failure is also the one JSON document on stdout:
 * {@code {"error": REASON, "code": EXIT, "hint": WHAT-TO-DO or null}}.
 */
public final class Main {
    public static final int EXIT_REFUSED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_CORRUPT = 3;
    public static final int EXIT_IO = 4;
    public static final int EXIT_INTERNAL = 70;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new RewindCommand());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            Throwable t = unwrap(e);
            if (t instanceof CommandLine.ParameterException p) {
                return usage(p, wantsJson(commandLine, parseResult.originalArgs()));
            }
            Failure f = failure(e);
            commandLine.getErr().println("rewind: " + describe(e));
            commandLine.getErr().flush();
            if (isInternal(e) && "1".equals(System.getenv("REWIND_DEBUG"))) {
                e.printStackTrace(commandLine.getErr());
            }
            if (wantsJson(commandLine, parseResult.originalArgs())) {
                f.printJson(commandLine.getOut());
            }
            return f.code();
        });
        cl.setParameterExceptionHandler((e, args) -> usage(e, wantsJson(e.getCommandLine(), java.util.List.of(args))));
        return cl;
    }

    /** Bad usage: the line on stderr (with where to read the usage), and the JSON document under --json. */
    private static int usage(CommandLine.ParameterException e, boolean json) {
        CommandLine c = e.getCommandLine();
        String help = "see '" + c.getCommandSpec().qualifiedName() + " --help'";
        c.getErr().println("rewind: " + e.getMessage() + " (" + help + ")");
        c.getErr().flush();
        if (json) {
            new Failure(e.getMessage(), help, EXIT_USAGE).printJson(c.getOut());
        }
        return EXIT_USAGE;
    }

    /**
     * Whether the command line asked for --json: parsed (the global option), or, when parsing
     * stopped before it, given among the options (before a {@code --}).
     */
    private static boolean wantsJson(CommandLine commandLine, java.util.List<String> args) {
        if (commandLine.getCommandSpec().root().userObject() instanceof RewindCommand root && root.json) {
            return true;
        }
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals("--json")) {
                return true;
            }
        }
        return false;
    }

    /** A failure as {@code --json} gives it: the one-line reason, what to do (null when the message does not say it apart), the exit code. */
    record Failure(String error, String hint, int code, Map<String, Object> report) {
        Failure(String error, String hint, int code) {
            this(error, hint, code, null);
        }

        /** The error document; a {@link ReportedFailure}'s result fields follow the three. */
        void printJson(java.io.PrintWriter out) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("error", error);
            doc.put("code", code);
            doc.put("hint", hint);
            if (report != null) {
                report.forEach(doc::putIfAbsent);
            }
            Output.printJson(out, doc);
        }
    }

    static Failure failure(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof ReportedFailure r) {
            return new Failure(r.getMessage(), null, exitCode(e), r.report());
        }
        if (t instanceof RewindException r && r.hint() != null) {
            return new Failure(r.reason(), r.hint(), exitCode(e));
        }
        String line = describe(e);
        String full = "the disk is full (";
        if (line.startsWith(full)) {
            int end = line.lastIndexOf("); ");
            return new Failure(line.substring(0, end + 1), line.substring(end + 3), exitCode(e));
        }
        return new Failure(line, null, exitCode(e));
    }

    public static int run(String... args) {
        CommandLine cl = commandLine();
        ((RewindCommand) cl.getCommand()).originalArgs = args.clone();
        return cl.execute(args);
    }

    /** Runs with the given output streams (for tests and embedding). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        return run(java.time.Clock.systemUTC(), out, err, args);
    }

    /**
     * Runs with the given output streams on {@code clock}: the data dir, the sets it opens and
     * a daemon started here read the time from it (tests move it instead of waiting).
     */
    static int run(java.time.Clock clock, java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        RewindCommand root = (RewindCommand) cl.getCommand();
        root.originalArgs = args.clone();
        root.clock = clock;
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof UncheckedIOException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof RuntimeException && t.getCause() instanceof RewindException re && !(t instanceof RewindException)) {
            return re;
        }
        return t;
    }

    static boolean isInternal(Throwable e) {
        Throwable t = unwrap(e);
        return !(t instanceof RewindException || t instanceof CorruptDataException || t instanceof IOException);
    }

    static String describe(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof RewindException || t instanceof CorruptDataException) {
            return t.getMessage();
        }
        if (t instanceof java.nio.file.NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if (t instanceof java.nio.file.AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        if (t instanceof IOException) {
            String msg = e instanceof UncheckedIOException u && u.getMessage() != null ? u.getMessage() : t.getMessage();
            if (msg != null && msg.contains("stopped taking writes")) {
                return msg; // a stopped set says itself what brings it back; freeing space alone does not
            }
            if (msg != null && msg.contains("No space left on device")) {
                return "the disk is full (" + msg + "); free space on the secondary or the primary and try again";
            }
            return "I/O error: " + msg;
        }
        return "internal error: " + t + " (set REWIND_DEBUG=1 for a stack trace, and please report it)";
    }

    static int exitCode(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof dev.rewind.capture.SetOfflineException o && o.getCause() != null) {
            return exitCode(o.getCause()); // offline for corruption exits as corruption does
        }
        if (t instanceof MalformedValueException) {
            return EXIT_USAGE;
        }
        if (t instanceof RewindException) {
            return EXIT_REFUSED;
        }
        if (t instanceof CorruptDataException) {
            return EXIT_CORRUPT;
        }
        if (t instanceof IOException) {
            return EXIT_IO;
        }
        return EXIT_INTERNAL;
    }
}
