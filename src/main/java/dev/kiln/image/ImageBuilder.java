package dev.kiln.image;

import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import java.nio.file.Path;

/**
 * Builds one output type from a compose's plan ({@code final-kickstart.ks} and the frozen package set) into the
 * compose's scratch directory. A type is enabled exactly when a builder for it is registered.
 */
public interface ImageBuilder {

    OutputType type();

    /** Builds the image; answers the file it wrote under {@code scratch}. */
    Path build(BuildRequest request) throws Exception;

    /**
     * What a build gets: the compose's results directory, its scratch directory, and the tool runner that owns its
     * child processes (so that cancel can kill them).
     */
    record BuildRequest(ResultsDir results, Path scratch, ToolRunner tools, long sizeBytes) {
    }
}
