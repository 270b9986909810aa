package dev.kiln;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The house rules, checked on the compiled classes: the layers (each uses only those below it), no cycle between
 * any two packages, the client apart from the server, Spring and Operaton only where they are needed, and every
 * process started by the tool runner.
 */
class ArchitectureTest {

    static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.kiln");
    }

    /**
     * {@code api → pipeline → image/kickstart → depsolve → source → debian → blueprint/store}, and the rooms
     * beside: {@code engine} (wiring, Cockpit) beside {@code api}, {@code output} under everything that names a type.
     */
    static final ArchRule LAYERS = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("App").definedBy("dev.kiln")
            .layer("Worker").definedBy("dev.kiln.worker..")
            .layer("Api").definedBy("dev.kiln.api..")
            .layer("Engine").definedBy("dev.kiln.engine..")
            .layer("Pipeline").definedBy("dev.kiln.pipeline..")
            .layer("Image").definedBy("dev.kiln.image..", "dev.kiln.boot..")
            .layer("Kickstart").definedBy("dev.kiln.kickstart..")
            .layer("Output").definedBy("dev.kiln.output..")
            .layer("Depsolve").definedBy("dev.kiln.depsolve..")
            .layer("Source").definedBy("dev.kiln.source..")
            .layer("Debian").definedBy("dev.kiln.debian..")
            .layer("Blueprint").definedBy("dev.kiln.blueprint..")
            .layer("Store").definedBy("dev.kiln.store..")
            .layer("Cli").definedBy("dev.kiln.cli..")
            .whereLayer("Worker").mayOnlyBeAccessedByLayers("App")
            .whereLayer("Api").mayOnlyBeAccessedByLayers("App")
            .whereLayer("Engine").mayOnlyBeAccessedByLayers("App", "Api", "Worker")
            .whereLayer("Pipeline").mayOnlyBeAccessedByLayers("Api", "Engine", "Worker")
            .whereLayer("Image").mayOnlyBeAccessedByLayers("Api", "Pipeline", "Worker")
            .whereLayer("Kickstart").mayOnlyBeAccessedByLayers("Api", "Pipeline", "Image")
            .whereLayer("Output").mayOnlyBeAccessedByLayers("Api", "Engine", "Pipeline", "Image", "Kickstart",
                    "Worker")
            .whereLayer("Depsolve").mayOnlyBeAccessedByLayers("Api", "Engine", "Pipeline", "Image", "Kickstart")
            .whereLayer("Source").mayOnlyBeAccessedByLayers("Api", "Engine", "Pipeline", "Image", "Kickstart",
                    "Depsolve")
            .whereLayer("Debian").mayOnlyBeAccessedByLayers("Api", "Engine", "Pipeline", "Image", "Kickstart",
                    "Depsolve", "Source")
            .whereLayer("Blueprint").mayOnlyBeAccessedByLayers("Api", "Engine", "Pipeline", "Image", "Kickstart",
                    "Depsolve", "Source")
            .whereLayer("Store").mayOnlyBeAccessedByLayers("App", "Api", "Worker", "Engine", "Pipeline", "Image",
                    "Kickstart", "Depsolve", "Source", "Blueprint")
            .whereLayer("Cli").mayOnlyBeAccessedByLayers("App");

    /**
     * Within the image room: the formats (one builder per output type) over the builders' contract and the disk,
     * over the tree, over what a tree is made with.
     */
    static final ArchRule IMAGE_ROOMS = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("Formats").definedBy("dev.kiln.image.format..")
            .layer("Builders").definedBy("dev.kiln.image")
            .layer("Disk").definedBy("dev.kiln.image.disk..")
            .layer("Tree").definedBy("dev.kiln.image.tree..")
            .layer("Customize").definedBy("dev.kiln.image.customize..")
            .layer("Fetch").definedBy("dev.kiln.image.fetch..")
            .layer("Sandbox").definedBy("dev.kiln.image.sandbox..")
            .whereLayer("Formats").mayNotBeAccessedByAnyLayer()
            .whereLayer("Builders").mayOnlyBeAccessedByLayers("Formats")
            .whereLayer("Disk").mayOnlyBeAccessedByLayers("Formats")
            .whereLayer("Tree").mayOnlyBeAccessedByLayers("Formats", "Builders", "Disk")
            .whereLayer("Customize").mayOnlyBeAccessedByLayers("Tree")
            .whereLayer("Fetch").mayOnlyBeAccessedByLayers("Tree", "Customize")
            .whereLayer("Sandbox").mayOnlyBeAccessedByLayers("Formats", "Builders", "Disk", "Tree", "Customize",
                    "Fetch");

    @Test
    void eachLayerUsesOnlyTheLayersBelowIt() {
        LAYERS.check(classes);
        IMAGE_ROOMS.check(classes);
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.kiln.(**)").should().beFreeOfCycles().check(classes);
    }

    /**
     * The client uses nothing of the server's, and no library but the three its thin jar names ({@code
     * target/kiln-cli.jar} and {@code target/cli-lib/}: picocli, Jackson's databind with its core and annotations).
     */
    @Test
    void theClientIsApartFromTheServer() {
        noClasses().that().resideInAPackage("dev.kiln.cli..").should().dependOnClassesThat()
                .resideOutsideOfPackages("dev.kiln.cli..", "java..", "javax..", "picocli..",
                        "com.fasterxml.jackson.core..", "com.fasterxml.jackson.databind..",
                        "com.fasterxml.jackson.annotation..")
                .check(classes);
    }

    @Test
    void springAndOperatonOnlyWhereTheyAreNeeded() {
        noClasses().that().resideOutsideOfPackages("dev.kiln.engine..", "dev.kiln.pipeline..").should()
                .dependOnClassesThat().resideInAPackage("org.operaton..").check(classes);
        noClasses().that().resideInAnyPackage("dev.kiln.output..", "dev.kiln.store..", "dev.kiln.boot..",
                "dev.kiln.image.disk..", "dev.kiln.image.customize..", "dev.kiln.cli..").should()
                .dependOnClassesThat().resideInAPackage("org.springframework..").check(classes);
    }

    @Test
    void onlyTheToolRunnerStartsProcesses() {
        noClasses().that().resideOutsideOfPackage("dev.kiln.image.sandbox..").should()
                .dependOnClassesThat().areAssignableTo(ProcessBuilder.class).check(classes);
    }
}
