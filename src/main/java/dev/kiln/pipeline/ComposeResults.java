package dev.kiln.pipeline;

import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.Passwords;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import java.time.Instant;

/** The first files of a compose's {@code results/<UUID>/}, whoever started it (Weldr or the engine's API). */
final class ComposeResults {

    private ComposeResults() {
    }

    /** Creates the directory with the committed blueprint (passwords hashed), its commit, WAITING and the time. */
    static void create(ResultsDir results, Blueprint blueprint, String commit, OutputType type, int test,
            boolean bootTest, Instant created) {
        results.create();
        results.write(ResultsDir.BLUEPRINT, Passwords.hashPlain(blueprint).toToml());
        results.write(ResultsDir.COMMIT, commit);
        results.status(ComposeService.WAITING);
        results.time("created", created);
        results.log("INFO", "compose " + results.uuid() + " of " + blueprint.name() + " " + blueprint.version() + " as "
                + type.id() + (test != 0 ? " (test mode " + test + ")" : "") + " submitted"
                + (bootTest ? ", with a boot test" : ""));
    }
}
