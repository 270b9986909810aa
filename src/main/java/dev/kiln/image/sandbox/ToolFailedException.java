package dev.kiln.image.sandbox;

import java.io.IOException;
import java.util.List;

/**
 * A tool (or a script run in the tree: a maintainer script, {@code %post}) that ran and exited non-zero. Running it
 * again on the same frozen plan would fail the same way, so the compose fails at once instead of being retried.
 * Its message is one line saying what failed, then the last lines the tool printed.
 */
public final class ToolFailedException extends IOException {

    /** How many of the last lines a failure's message keeps (the log has all of them). */
    static final int LAST_LINES = 10;

    private final String tool;
    private final int exitCode;
    private final String output;

    public ToolFailedException(String tool, int exitCode, String output) {
        this(tool, exitCode, output, tool + " failed with exit code " + exitCode);
    }

    private ToolFailedException(String tool, int exitCode, String output, String summary) {
        this(tool, exitCode, output, summary, output);
    }

    private ToolFailedException(String tool, int exitCode, String output, String summary, String shown) {
        super(summary + lastLines(shown));
        this.tool = tool;
        this.exitCode = exitCode;
        this.output = output == null ? "" : output;
    }

    /** The same failure told as {@code summary}: what failed in words the user knows (a %post script, a package). */
    public ToolFailedException as(String summary) {
        return as(summary, output);
    }

    /** As {@link #as(String)}, showing the last lines of {@code shown} (the part of the output that tells). */
    public ToolFailedException as(String summary, String shown) {
        ToolFailedException e = new ToolFailedException(tool, exitCode, output, summary, shown);
        e.initCause(this);
        return e;
    }

    private static String lastLines(String output) {
        if (output == null || output.isBlank()) {
            return "";
        }
        List<String> lines = output.strip().lines().filter(l -> !l.isBlank())
                .map(l -> l.length() > 300 ? l.substring(0, 300) + "…" : l).toList();
        return "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - LAST_LINES), lines.size()));
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
