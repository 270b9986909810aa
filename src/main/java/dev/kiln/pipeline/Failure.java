package dev.kiln.pipeline;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why a compose failed, as the engine recorded it: the {@code step} (a topic) and the {@code reason}, whose first
 * line says what failed (which script or package, which exit code) and whose next lines are the last ones it
 * printed. Read from the BPMN error's message ({@code <topic>: <reason>}) or from an open incident's.
 */
public record Failure(String step, String reason) {

    private static final Pattern STEP_FIRST = Pattern.compile("([a-z][a-z0-9-]*): (.*)", Pattern.DOTALL);
    /** An incident's message as {@link StepEnds.Retry} words it: {@code compose <uuid> (<bp> <v>, <type>), <topic>: }. */
    private static final Pattern INCIDENT = Pattern.compile("compose \\S+ \\([^)]*\\), ([a-z][a-z0-9-]*): (.*)", Pattern.DOTALL);
    static final int SHORT = 120;

    /** From the message a step's BPMN error carried (null when there is none). */
    static Failure ofError(String message) {
        if (message == null || message.isBlank()) {
            return null;
        }
        Matcher m = STEP_FIRST.matcher(message.strip());
        return m.matches() ? new Failure(m.group(1), m.group(2).strip()) : new Failure("", message.strip());
    }

    /** From an open incident: its activity (the step's task) and message. */
    static Failure ofIncident(String activity, String message) {
        String text = message == null ? "" : message.strip();
        Matcher m = INCIDENT.matcher(text);
        if (m.matches()) {
            return new Failure(m.group(1), m.group(2).strip() + "\n(retries exhausted: an incident is open)");
        }
        return new Failure(activity == null ? "" : activity, text + "\n(retries exhausted: an incident is open)");
    }

    /** The reason's first line: what failed. */
    public String summary() {
        int nl = reason.indexOf('\n');
        return nl < 0 ? reason : reason.substring(0, nl);
    }

    /** The lines after the first: the end of what the failing program printed (may be empty). */
    public String lastLines() {
        int nl = reason.indexOf('\n');
        return nl < 0 ? "" : reason.substring(nl + 1).strip();
    }

    /** One line for listings: {@code step: summary}, cut to {@value #SHORT} characters. */
    public String shortForm() {
        String s = (step.isEmpty() ? "" : step + ": ") + summary();
        return s.length() <= SHORT ? s : s.substring(0, SHORT - 1) + "…";
    }
}
