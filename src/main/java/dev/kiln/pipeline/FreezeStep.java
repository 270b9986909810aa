package dev.kiln.pipeline;

import dev.kiln.depsolve.DepsFile;
import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.depsolve.BlueprintDepsolver;
import dev.kiln.store.ResultsDir;
import java.util.HashMap;
import java.util.Map;
import org.springframework.stereotype.Component;

/** {@code freeze}: the one place names become exact versions → {@code frozen.toml}. */
@Component
class FreezeStep implements ComposeStep {

    @Override
    public String topic() {
        return "freeze";
    }

    @Override
    public void execute(ComposeTask task) {
        Blueprint blueprint = BlueprintParser.parseToml(task.results().read(ResultsDir.BLUEPRINT));
        Map<String, String> versions = new HashMap<>();
        for (Map<String, Object> dep : DepsFile.read(task.results().read(ResultsDir.DEPS))) {
            versions.put((String) dep.get("name"), DepsFile.frozen(dep));
        }
        task.results().write(ResultsDir.FROZEN, BlueprintDepsolver.freeze(blueprint, versions).toToml());
    }
}
