package dev.kiln.pipeline;

import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.blueprint.BlueprintStore;
import dev.kiln.blueprint.Customizations;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.springframework.stereotype.Component;

/**
 * {@code prepare}, the first step: makes any start of the process a compose. A start through the Weldr API arrives
 * checked, its results directory made; one through {@code /engine-rest}, Tasklist or Cockpit brings only variables
 * ({@code blueprint} and {@code type}, optionally {@code version}, {@code branch}, {@code size}, {@code test},
 * {@code bootTest}), which are checked here as the Weldr API checks them, and the results directory made from the
 * committed blueprint. What does not pass ends the compose FAILED with the reason.
 */
@Component
class PrepareStep implements ComposeStep {

    static final String TOPIC = "prepare";
    private final ComposeChecks checks;

    PrepareStep(ComposeChecks checks) {
        this.checks = checks;
    }

    @Override
    public String topic() {
        return TOPIC;
    }

    @Override
    public void execute(ComposeTask task) throws Exception {
        ResultsDir results = task.results();
        if (results.exists() && results.file(ResultsDir.BLUEPRINT).toFile().isFile()) {
            return; // submitted through the Weldr API (checked there), or prepared by an earlier attempt
        }
        Map<String, Object> v = task.variables();
        String name = v.get("blueprint") instanceof String s ? s : null;
        if (name == null || !BlueprintNames.isValid(name)) {
            throw new StepFailedException("the process variable 'blueprint' must name a blueprint, not " + show(v.get("blueprint")));
        }
        String branch = v.get("branch") instanceof String s && !s.isEmpty() ? s : BlueprintStore.DEFAULT_BRANCH;
        if (!BlueprintNames.isValidBranch(branch)) {
            throw new StepFailedException("the process variable 'branch' is not a valid branch: " + show(branch));
        }
        Optional<OutputType> type = v.get("type") instanceof String s ? OutputType.byName(s) : Optional.empty();
        if (type.isEmpty()) {
            throw new StepFailedException("the process variable 'type' must be one of " + OutputType.ids()
                    + " (or osbuild-composer's " + new TreeSet<>(OutputType.ALIASES.keySet()) + "), not "
                    + show(v.get("type")));
        }
        int test = (int) integer(v, "test", 0, 2);
        long size = integer(v, "size", 0, Customizations.MAX_SIZE);
        if (v.get("bootTest") != null && !(v.get("bootTest") instanceof Boolean)) {
            throw new StepFailedException("the process variable 'bootTest' must be true or false");
        }
        ComposeChecks.Checked checked;
        try {
            checked = checks.blueprint(branch, name);
            checks.buildable(checked, type.get(), test);
        } catch (ComposeChecks.Rejected e) {
            throw new StepFailedException(e.getMessage());
        }
        Blueprint blueprint = checked.blueprint();
        if (v.get("version") != null && !String.valueOf(v.get("version")).equals(blueprint.version())) {
            throw new StepFailedException("blueprint " + name + " is at version " + blueprint.version()
                    + ", not " + show(v.get("version")));
        }
        String commit = checked.commit();
        ComposeResults.create(results, blueprint, commit, type.get(), test, Boolean.TRUE.equals(v.get("bootTest")),
                Instant.now());
        // what the later steps and the listings read, as a Weldr start has it
        task.output().put("type", type.get().id());
        task.output().put(ComposeProcess.TYPE_NAME, v.get("type"));
        task.output().put("version", blueprint.version());
        task.output().put("test", test);
        task.output().put("size", size);
        task.output().put("bootTest", Boolean.TRUE.equals(v.get("bootTest")));
    }

    private static long integer(Map<String, Object> v, String name, long min, long max) throws StepFailedException {
        Object value = v.get(name);
        if (value == null) {
            return min;
        }
        if (!(value instanceof Integer || value instanceof Long || value instanceof Short)
                || ((Number) value).longValue() < min || ((Number) value).longValue() > max) {
            throw new StepFailedException("the process variable '" + name + "' must be an integer from " + min + " to "
                    + max + ", not " + show(value));
        }
        return ((Number) value).longValue();
    }

    private static String show(Object value) {
        String s = String.valueOf(value).replaceAll("\\p{Cntrl}", "?");
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }
}
