package dev.kiln.image.sandbox;

import java.io.IOException;

/**
 * A tool (or a script run in the tree: a maintainer script, {@code %post}) that ran and exited non-zero. Running it
 * again on the same frozen plan would fail the same way, so the compose fails at once instead of being retried.
 */
public final class ToolFailedException extends IOException {

    private final String tool;
    private final int exitCode;
    private final String output;

    public ToolFailedException(String tool, int exitCode, String output) {
        super(tool + " failed with exit code " + exitCode + (output == null || output.isBlank() ? "" : ": " + output));
        this.tool = tool;
        this.exitCode = exitCode;
        this.output = output == null ? "" : output;
    }

    public String tool() {
        return tool;
    }

    public int exitCode() {
        return exitCode;
    }

    /** The tail of what it printed. */
    public String output() {
        return output;
    }
}
