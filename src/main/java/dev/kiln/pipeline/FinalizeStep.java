package dev.kiln.pipeline;

import dev.kiln.store.ResultsDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import org.springframework.stereotype.Component;

/**
 * {@code finalize}: moves the image from {@code compose/} into the results directory, removes {@code compose/} (the
 * spec: the scratch directory is gone after a successful build) and marks the compose FINISHED.
 */
@Component
class FinalizeStep implements ComposeStep {

    @Override
    public String topic() {
        return "finalize";
    }

    @Override
    public void execute(ComposeTask task) throws Exception {
        ResultsDir results = task.results();
        Path built = results.file(ResultsDir.COMPOSE).resolve(task.type().imageName());
        Path image = results.file(task.type().imageName());
        if (Files.exists(built)) {
            Files.move(built, image, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } else if (!Files.exists(image)) { // after a crash the move may already have happened
            throw new StepFailedException("the build left no " + task.type().imageName());
        }
        BuildStep.clear(results.file(ResultsDir.COMPOSE)); // the build's scratch directory goes, as in lorax
        Files.deleteIfExists(results.file(ResultsDir.COMPOSE));
        results.time("finished", Instant.now());
        results.status("FINISHED");
        task.log("compose finished: " + image.getFileName() + ", " + Files.size(image) + " bytes");
    }
}
