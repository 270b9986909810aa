package dev.kiln.pipeline;

import dev.kiln.KilnProperties;
import dev.kiln.image.ImageBuilder;
import dev.kiln.image.OutputTypes;
import dev.kiln.store.FileTrees;
import dev.kiln.store.Progress;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * {@code build}: executes the plan in a scratch directory of this attempt under {@code compose/}, then hands the
 * image to {@link ComposeTask#images()} (into {@code compose/<image>}, or to the node a remote worker serves). In lorax's test mode it runs a
 * child process for {@code kiln.compose.test-build-seconds} instead, then fails ({@code test=1}) or leaves an image
 * holding {@code TEST IMAGE} ({@code test=2}).
 */
@Component
public class BuildStep implements ComposeStep {

    private final OutputTypes outputTypes;
    private final int testSeconds;
    private final Path estimates;

    public BuildStep(OutputTypes outputTypes, KilnProperties properties,
            @Value("${kiln.compose.test-build-seconds:5}") int testSeconds) {
        this.outputTypes = outputTypes;
        this.testSeconds = testSeconds;
        this.estimates = properties.localDir().resolve("cache/estimates");
    }

    @Override
    public String topic() {
        return "build";
    }

    @Override
    public void execute(ComposeTask task) throws Exception {
        ResultsDir results = task.results();
        Path compose = results.file(ResultsDir.COMPOSE);
        clear(compose); // a step picked up again after a crash starts from nothing
        // this attempt's own room: a stale attempt still running elsewhere (its lock lapsed) never writes into ours
        Path scratch = Files.createDirectories(compose.resolve(".attempt-" + UUID.randomUUID()));
        Files.createDirectories(results.file(ResultsDir.LOGS));
        results.status("RUNNING");
        results.time("started", Instant.now());
        try {
            if (task.test() != 0) {
                if (testSeconds > 0) { // a process to stop, as a build has (cancel); none for no time at all
                    task.tools().run(scratch, List.of("sleep", String.valueOf(testSeconds)));
                }
                if (task.test() == 1) {
                    throw new StepFailedException("TESTING FAILED compose");
                }
                Path image = scratch.resolve(task.type().imageName());
                Files.writeString(image, "TEST IMAGE\n", StandardCharsets.UTF_8);
                task.images().publish(image);
                return;
            }
            // the phases of the last build of this package set and type: what the remainder is estimated from
            task.tools().progress().history(estimates.resolve(Progress.key(task.type().id() + "\n"
                    + (results.has(ResultsDir.DEPS) ? results.read(ResultsDir.DEPS) : "")) + ".json"));
            ImageBuilder builder = outputTypes.builder(task.type())
                    .orElseThrow(() -> new StepFailedException("output type " + task.type().id() + " has no builder yet"));
            task.images().publish(builder.build(new ImageBuilder.BuildRequest(results, scratch, task.tools(),
                    task.size())));
        } finally {
            FileTrees.delete(scratch);
        }
    }

    static void clear(Path dir) throws IOException {
        FileTrees.empty(dir);
    }
}
