package dev.kiln.pipeline;

import dev.kiln.store.FileTrees;
import dev.kiln.image.ImageBuilder;
import dev.kiln.image.OutputTypes;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * {@code build}: executes the plan into the scratch directory {@code compose/}. In lorax's test mode it runs a
 * child process for {@code kiln.compose.test-build-seconds} instead, then fails ({@code test=1}) or leaves an image
 * holding {@code TEST IMAGE} ({@code test=2}).
 */
@Component
class BuildStep implements ComposeStep {

    private final OutputTypes outputTypes;
    private final int testSeconds;

    BuildStep(OutputTypes outputTypes, @Value("${kiln.compose.test-build-seconds:5}") int testSeconds) {
        this.outputTypes = outputTypes;
        this.testSeconds = testSeconds;
    }

    @Override
    public String topic() {
        return "build";
    }

    @Override
    public void execute(ComposeTask task) throws Exception {
        ResultsDir results = task.results();
        Path scratch = results.file(ResultsDir.COMPOSE);
        clear(scratch); // a step picked up again after a crash starts from nothing
        Files.createDirectories(results.file(ResultsDir.LOGS));
        results.status("RUNNING");
        results.time("started", Instant.now());
        if (task.test() != 0) {
            task.tools().run(scratch, List.of("sleep", String.valueOf(testSeconds)));
            if (task.test() == 1) {
                throw new StepFailedException("TESTING FAILED compose");
            }
            Files.writeString(scratch.resolve(task.type().imageName()), "TEST IMAGE\n", StandardCharsets.UTF_8);
            return;
        }
        ImageBuilder builder = outputTypes.builder(task.type())
                .orElseThrow(() -> new StepFailedException("output type " + task.type().id() + " has no builder yet"));
        builder.build(new ImageBuilder.BuildRequest(results, scratch, task.tools(), task.size()));
    }

    static void clear(Path dir) throws IOException {
        FileTrees.empty(dir);
    }
}
