package dev.rewind.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rules of the test suite that a compiler cannot check, read from every module's test
 * sources: unit tests start no process (real programs run only in {@code *IT} classes, under
 * Failsafe); every seed goes through {@code Seeds}; each shared fixture exists once, in
 * {@code test-fixtures} or {@code test-fixtures-base}.
 */
class TestSourceConventionsTest {
    /** The shared fixtures: a class of one of these names anywhere else is a second copy. */
    private static final Set<String> FIXTURES = Set.of("Seeds.java", "Tools.java", "NbdTestClient.java", "NbdWire.java", "ImageModel.java",
            "TestSet.java");

    private static final Pattern UNSEEDED_RANDOM = Pattern.compile("new\\s+(java\\.util\\.)?Random\\(\\s*\\)");

    private static Path root;
    private static List<Path> testSources;

    @BeforeAll
    static void findTestSources() throws IOException {
        root = Path.of("").toAbsolutePath().getParent();
        assertTrue(Files.isRegularFile(root.resolve("pom.xml")) && Files.isDirectory(root.resolve("lvm-capture")),
                "run from the examples module of the Rewind tree, not " + root);
        testSources = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path module : modules.filter(m -> Files.isDirectory(m.resolve("src/test/java"))).toList()) {
                try (Stream<Path> files = Files.walk(module.resolve("src/test/java"))) {
                    files.filter(f -> f.toString().endsWith(".java") && !f.endsWith("TestSourceConventionsTest.java")) // not the rules themselves
                            .forEach(testSources::add);
                }
            }
        }
        assertTrue(testSources.size() > 20, "found the test sources: " + testSources.size());
    }

    @Test
    void unitTestsStartNoProcess() {
        List<String> offenders = new ArrayList<>();
        for (Path f : testSources) {
            String name = f.getFileName().toString();
            if (name.endsWith("IT.java")) {
                continue;
            }
            String text = read(f);
            for (String call : List.of("new ProcessBuilder(", "Runtime.getRuntime().exec(", "Tools.run(")) {
                if (text.contains(call) && name.endsWith("Test.java")) {
                    offenders.add(root.relativize(f) + " calls " + call);
                }
            }
        }
        assertEquals(List.of(), offenders, "a test that runs a real program is an integration test: rename it *IT (Failsafe)");
    }

    /**
     * Power-loss and fault-sweep tests are left out of a module's ordinary test run and run in
     * the root pom's {@code power-loss} execution, which a module turns on by setting
     * {@code rewind.powerLoss.skip} (the root's default is to skip): a module with such a test
     * that does not turn it on would never run it, and nothing would say so.
     */
    @Test
    void everyModuleWithPowerLossTestsRunsThem() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (Path f : testSources) {
            String name = f.getFileName().toString();
            if (!name.endsWith("PowerLossTest.java") && !name.endsWith("FaultSweepTest.java")) {
                continue;
            }
            Path module = root.resolve(root.relativize(f).getName(0));
            String pom = read(module.resolve("pom.xml"));
            java.util.regex.Matcher skip = Pattern.compile("<rewind\\.powerLoss\\.skip>([^<]*)</rewind\\.powerLoss\\.skip>").matcher(pom);
            if (!skip.find() || skip.group(1).strip().equals("true")) {
                offenders.add(root.relativize(f) + ": " + module.getFileName() + "/pom.xml does not turn the power-loss execution on");
            }
        }
        assertEquals(List.of(), offenders.stream().distinct().toList(),
                "set <rewind.powerLoss.skip>${maven.test.skip}</rewind.powerLoss.skip> in the module's pom");
    }

    @Test
    void seedsComeFromTheSeedHelper() {
        List<String> offenders = new ArrayList<>();
        for (Path f : testSources) {
            String text = read(f);
            if (text.contains("\"rewind.seed\"")) {
                offenders.add(root.relativize(f) + " reads rewind.seed itself");
            }
            if (UNSEEDED_RANDOM.matcher(text).find()) {
                offenders.add(root.relativize(f) + " makes an unseeded Random");
            }
        }
        assertEquals(List.of(), offenders,
                "take seeds from dev.rewind.testfixtures.seed.Seeds (printed in the test name, replayed with -Drewind.seed=N)");
    }

    @Test
    void eachSharedFixtureExistsOnce() {
        List<String> copies = testSources.stream().filter(f -> FIXTURES.contains(f.getFileName().toString()))
                .map(f -> root.relativize(f).toString()).toList();
        assertEquals(List.of(), copies, "shared fixtures live in test-fixtures or test-fixtures-base only; use those");
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
