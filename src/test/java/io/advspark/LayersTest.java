package io.advspark;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.advspark.attack.Parts;
import io.advspark.defense.DefenseChain;
import io.advspark.defense.Defenses;
import io.advspark.score.Scoring;
import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.PartSpec;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Configuration and control flow one way, checked over the compiled main classes: each package
 * uses only the ones below it (docs/architecture.md draws the diagram), and Spark stays in the
 * thin adapters of job/ and the launcher.
 *
 * <pre>
 *   cli -> job -> round -> plan -> report -> attack | defense | score -> model -> data -> vocabulary | util
 * </pre>
 */
class LayersTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMain() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS).importPackages("io.advspark");
    }

    @Test
    void noPackageUsesAHigherOne() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("cli").definedBy("io.advspark.cli..")
                .layer("job").definedBy("io.advspark.job..")
                .layer("round").definedBy("io.advspark.round..")
                .layer("plan").definedBy("io.advspark.plan..")
                .layer("report").definedBy("io.advspark.report..")
                .layer("attack").definedBy("io.advspark.attack..")
                .layer("defense").definedBy("io.advspark.defense..")
                .layer("score").definedBy("io.advspark.score..")
                .layer("model").definedBy("io.advspark.model..")
                .layer("data").definedBy("io.advspark.data..")
                .layer("vocabulary").definedBy("io.advspark.vocabulary..")
                .layer("util").definedBy("io.advspark.util..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("job").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("round").mayOnlyBeAccessedByLayers("job", "cli")
                .whereLayer("plan").mayOnlyBeAccessedByLayers("round", "job", "cli")
                .whereLayer("report").mayOnlyBeAccessedByLayers("job", "cli")
                .whereLayer("attack").mayOnlyBeAccessedByLayers("plan", "round", "job", "cli")
                .whereLayer("defense").mayOnlyBeAccessedByLayers("plan", "round", "job", "cli")
                .whereLayer("score").mayOnlyBeAccessedByLayers("report", "plan", "round", "job", "cli")
                .whereLayer("model").mayOnlyBeAccessedByLayers("attack", "defense", "score", "report", "plan", "round", "job",
                        "cli")
                .whereLayer("data")
                .mayOnlyBeAccessedByLayers("model", "attack", "defense", "score", "report", "plan", "round", "job", "cli")
                .whereLayer("util").mayOnlyBeAccessedByLayers("vocabulary", "data", "model", "attack", "defense", "score",
                        "report", "plan", "round", "job", "cli")
                .whereLayer("vocabulary").mayOnlyBeAccessedByLayers("data", "model", "attack", "defense", "score", "report",
                        "plan", "round", "job", "cli")
                .because("configuration flows one way: vocabulary -> data -> model -> attack/defense/score -> report -> plan"
                        + " -> round -> job -> cli")
                .check(main);
    }

    @Test
    void sparkStaysInTheJobAdaptersAndTheLauncher() {
        noClasses().that().resideOutsideOfPackages("io.advspark.job..", "io.advspark.cli..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.spark..", "scala..")
                .because("the attack engine and the round core run without Spark (a unit test, a notebook)")
                .check(main);
    }

    @Test
    void theSparkAdaptersAndTheRoundCoreNeverParseSpecText() {
        noClasses().that().resideInAnyPackage("io.advspark.job..", "io.advspark.round..")
                .should().callMethod(Catalogue.class, "parse", Kind.class, String.class)
                .orShould().callMethod(Catalogue.class, "create", Kind.class, String.class, Class.class)
                .orShould().callMethod(PartSpec.class, "parse", String.class)
                .orShould().callMethod(DefenseChain.class, "parse", String.class)
                .orShould().callMethod(Defenses.class, "parse", String.class)
                .orShould().callMethod(Scoring.class, "parse", String.class)
                .orShould().dependOnClassesThat().areAssignableTo(Parts.class)
                .because("the plan is parsed once, when it is loaded; jobs and tasks build from its typed values")
                .check(main);
    }

    @Test
    void everyPackageSaysWhatItHoldsAndHowToAddToIt() throws java.io.IOException {
        java.nio.file.Path root = java.nio.file.Path.of("src/main/java");
        List<String> missing;
        try (java.util.stream.Stream<java.nio.file.Path> dirs = java.nio.file.Files.walk(root)) {
            missing = dirs.filter(java.nio.file.Files::isDirectory)
                    .filter(d -> hasJava(d) && !java.nio.file.Files.exists(d.resolve("package-info.java")))
                    .map(d -> root.relativize(d).toString()).sorted().toList();
        }
        assertEquals(List.of(), missing, "packages without a package-info.java");
    }

    private static boolean hasJava(java.nio.file.Path dir) {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(dir)) {
            return files.anyMatch(f -> f.toString().endsWith(".java"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
