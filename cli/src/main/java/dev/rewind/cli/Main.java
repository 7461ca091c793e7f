package dev.rewind.cli;

import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * Entry point. Every failure becomes one line on stderr and an exit code, here and
 * nowhere else; a stack trace only for internal errors, and only with REWIND_DEBUG=1.
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
            commandLine.getErr().println("rewind: " + describe(e));
            commandLine.getErr().flush();
            if (isInternal(e) && "1".equals(System.getenv("REWIND_DEBUG"))) {
                e.printStackTrace(commandLine.getErr());
            }
            return exitCode(e);
        });
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println("rewind: " + e.getMessage() + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            c.getErr().flush();
            return EXIT_USAGE;
        });
        return cl;
    }

    public static int run(String... args) {
        CommandLine cl = commandLine();
        ((RewindCommand) cl.getCommand()).originalArgs = args.clone();
        return cl.execute(args);
    }

    /** Runs with the given output streams (for tests and embedding). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        ((RewindCommand) cl.getCommand()).originalArgs = args.clone();
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
            if (msg != null && msg.contains("No space left on device")) {
                return "the disk is full (" + msg + "); free space on the secondary or the primary and try again";
            }
            return "I/O error: " + msg;
        }
        return "internal error: " + t + " (set REWIND_DEBUG=1 for a stack trace, and please report it)";
    }

    static int exitCode(Throwable e) {
        Throwable t = unwrap(e);
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
