package dev.kiln.pipeline;

import java.time.Duration;
import java.util.Locale;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * How long a step may run, or wait for a worker: {@code kiln.compose.timeout.<topic>} (an ISO-8601 duration such
 * as {@code PT2H}, or {@code 90m}), by default 3 hours for {@code build}, 2 for {@code boot-test}, 30 minutes for
 * the others.
 */
@Component
public class StepTimeouts {

    private final Environment environment;

    public StepTimeouts(Environment environment) {
        this.environment = environment;
    }

    public Duration of(String topic) {
        Duration fallback = topic.equals("build") ? Duration.ofHours(3)
                : topic.equals("boot-test") ? Duration.ofHours(2) : Duration.ofMinutes(30);
        return environment.getProperty("kiln.compose.timeout." + topic, Duration.class, fallback);
    }

    /** The reason of a compose whose step ran past its timeout. */
    public String timedOut(String topic) {
        return topic + ": timed out after " + show(of(topic)) + " (kiln.compose.timeout." + topic
                + "); its processes were stopped";
    }

    /** The reason of a compose whose step no worker took in time. */
    String unserved(String topic) {
        return topic + ": no worker took the step within " + show(of(topic)) + " (kiln.compose.timeout." + topic + ")";
    }

    /** A duration as the messages write it: {@code 2s}, {@code 30m}, {@code 3h}. */
    private static String show(Duration d) {
        return d.toString().substring(2).toLowerCase(Locale.ROOT);
    }
}
