package dev.kiln.pipeline;

import dev.kiln.depsolve.DepsFile;
import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.blueprint.TreeCustomizations;
import dev.kiln.depsolve.BlueprintDepsolver;
import dev.kiln.depsolve.DepsolveException;
import dev.kiln.debian.Pkg;
import dev.kiln.kickstart.KickstartTemplates;
import dev.kiln.store.ResultsDir;
import java.util.List;
import org.springframework.stereotype.Component;

/** {@code depsolve}: the committed blueprint plus the type's template packages → {@code deps.toml}. */
@Component
class DepsolveStep implements ComposeStep {

    private final BlueprintDepsolver depsolver;
    private final KickstartTemplates templates;

    DepsolveStep(BlueprintDepsolver depsolver, KickstartTemplates templates) {
        this.depsolver = depsolver;
        this.templates = templates;
    }

    @Override
    public String topic() {
        return "depsolve";
    }

    @Override
    public void execute(ComposeTask task) throws Exception {
        Blueprint blueprint = BlueprintParser.parseToml(task.results().read(ResultsDir.BLUEPRINT));
        List<String> extra = new java.util.ArrayList<>(templates.template(task.type()).packages());
        TreeCustomizations.packagesNeeded(blueprint.customizations()).stream().filter(n -> !extra.contains(n))
                .forEach(extra::add);
        List<Pkg> packages;
        try {
            packages = depsolver.depsolve(blueprint, extra);
        } catch (DepsolveException e) {
            throw new StepFailedException("Problem depsolving " + blueprint.name() + ": " + e.getMessage());
        }
        task.results().write(ResultsDir.DEPS, DepsFile.write(packages));
        task.log("depsolve: " + packages.size() + " packages");
    }
}
