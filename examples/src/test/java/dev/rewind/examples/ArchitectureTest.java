package dev.rewind.examples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module boxes of DESIGN.md depend one way: volume-set at the bottom, then increments,
 * lvm-capture, db-adapters and scheduler, with cli on top. The examples module sees every
 * module's main classes, so the rules are checked here, on production code only.
 */
class ArchitectureTest {
    private static final String VOLUME_SET = "dev.rewind.volumeset..";
    private static final String INCREMENTS = "dev.rewind.increments..";
    private static final String CAPTURE = "dev.rewind.capture..";
    private static final String DB_ADAPTERS = "dev.rewind.dbadapters..";
    private static final String SCHEDULER = "dev.rewind.scheduler..";
    private static final String CLI = "dev.rewind.cli..";

    private static JavaClasses production;

    @BeforeAll
    static void importProductionClasses() {
        production = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("test-fixtures")) // the shared test fixtures, should a test dependency bring them in
                .importPackages("dev.rewind");
    }

    @Test
    void everyModuleIsOnTheClasspathSoTheRulesHaveSomethingToCheck() {
        for (String className : List.of("dev.rewind.volumeset.manager.VolumeManager", "dev.rewind.increments.journal.Journal",
                "dev.rewind.capture.CapturedSet", "dev.rewind.cli.RewindCommand")) {
            assertTrue(production.contain(className), className + " was imported");
        }
        assertTrue(production.stream().anyMatch(c -> c.getPackageName().startsWith("dev.rewind.dbadapters")), "db-adapters imported");
        assertTrue(production.stream().noneMatch(c -> c.getSimpleName().endsWith("Test") || c.getSimpleName().equals("TestSet")),
                "test classes are left out");
    }

    @Test
    void volumeSetDependsOnNoHigherModule() {
        noClasses().that().resideInAPackage(VOLUME_SET)
                .should().dependOnClassesThat().resideInAnyPackage(INCREMENTS, CAPTURE, DB_ADAPTERS, SCHEDULER, CLI)
                .because("volume-set is the bottom of the stack")
                .check(production);
    }

    @Test
    void incrementsDependsOnNoHigherModule() {
        noClasses().that().resideInAPackage(INCREMENTS)
                .should().dependOnClassesThat().resideInAnyPackage(CAPTURE, DB_ADAPTERS, SCHEDULER, CLI)
                .because("increments sits on volume-set only; a hook it needs is an interface it owns")
                .check(production);
    }

    @Test
    void captureDependsOnNoHigherModule() {
        noClasses().that().resideInAPackage(CAPTURE)
                .should().dependOnClassesThat().resideInAnyPackage(DB_ADAPTERS, SCHEDULER, CLI)
                .because("lvm-capture sits on increments and volume-set only")
                .check(production);
    }

    @Test
    void dbAdaptersAndSchedulerDoNotDependOnTheCli() {
        noClasses().that().resideInAnyPackage(DB_ADAPTERS, SCHEDULER)
                .should().dependOnClassesThat().resideInAPackage(CLI)
                .because("cli is the top of the stack")
                .check(production);
    }

    @Test
    void modulesHaveNoDependencyCycles() {
        slices().matching("dev.rewind.(*)..").should().beFreeOfCycles().check(production);
    }

    @Test
    void packagesHaveNoDependencyCycles() {
        slices().matching("dev.rewind.(**)").should().beFreeOfCycles()
                .because("a package cycle inside a module hides which concept sits on which; "
                        + "move the class to the package its concept belongs to")
                .check(production);
    }
}
