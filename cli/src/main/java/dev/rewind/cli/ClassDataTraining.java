package dev.rewind.cli;

import dev.rewind.cli.datadir.DataDir;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The training run for the class data sharing archive that the {@code rewind} script makes
 * after a build ({@code java -XX:ArchiveClassesAtExit=cli/target/rewind.jsa -cp rewind.jar
 * dev.rewind.cli.ClassDataTraining}): runs the short commands once, in one JVM, on a
 * throwaway data dir with a small set, so that the archive holds every class they load
 * (picocli, the catalog with H2 and HikariCP, the set, Jackson for {@code --json}). Later
 * commands map those classes from the archive instead of loading and verifying them from
 * the jars. Not a user command; prints nothing; exits non-zero if a command failed.
 */
public final class ClassDataTraining {
    private ClassDataTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("rewind-cds-training");
        int failed = 0;
        try {
            String data = dir.resolve("data").toString();
            List<List<String>> commands = List.of(
                    List.of("init"),
                    List.of("pv", "create", "p", "--path", dir.resolve("p.img").toString(), "--size", "24M"),
                    List.of("vg", "create", "vg", "--pv", "p"),
                    List.of("lv", "create", "lv", "--vg", "vg", "--size", "8M"),
                    List.of("set", "create", "s", "--member", "vg/lv"),
                    List.of("status"), List.of("status", "s", "--json"),
                    List.of("log", "s"), List.of("log", "s", "--json"),
                    List.of("bookmark", "s", "b1"), List.of("bookmark", "s", "b2", "--json"),
                    List.of("set", "list"), List.of("set", "list", "--json"),
                    List.of("pv", "list"), List.of("vg", "list", "--json"), List.of("lv", "list"),
                    List.of("status", "no-such-set"), List.of("--help"), List.of("status", "--help"));
            PrintWriter nowhere = new PrintWriter(Writer.nullWriter());
            for (List<String> command : commands) {
                String[] argv = new String[command.size() + 2];
                argv[0] = "--data";
                argv[1] = data;
                for (int i = 0; i < command.size(); i++) {
                    argv[i + 2] = command.get(i);
                }
                int exit = Main.run(nowhere, nowhere, argv);
                if (exit != 0 && !command.contains("no-such-set")) {
                    failed++;
                }
            }
        } finally {
            DataDir.deleteTree(dir);
        }
        if (failed > 0) {
            System.exit(1);
        }
    }
}
