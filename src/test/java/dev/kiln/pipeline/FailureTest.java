package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A failed compose's reason read back from what the engine recorded. */
class FailureTest {

    @Test
    void aStepsErrorMessageIsItsStepAndReason() {
        Failure f = Failure.ofError("build: %post script 1 of 1 (final-kickstart.ks) exited with code 3\nno\nreally");
        assertThat(f.step()).isEqualTo("build");
        assertThat(f.summary()).isEqualTo("%post script 1 of 1 (final-kickstart.ks) exited with code 3");
        assertThat(f.lastLines()).isEqualTo("no\nreally");
        assertThat(f.shortForm()).isEqualTo("build: %post script 1 of 1 (final-kickstart.ks) exited with code 3");
        assertThat(Failure.ofError(null)).isNull();
        assertThat(Failure.ofError("Something Else")).isEqualTo(new Failure("", "Something Else"));
        assertThat(Failure.ofError("depsolve: " + "x".repeat(300)).shortForm()).hasSize(Failure.SHORT).endsWith("…");
    }

    @Test
    void anIncidentsMessageLosesTheComposePrefix() {
        StepEnds.Retry r = StepEnds.Retry.of(1, 3, 1000, "0f6e0a4e-5a4e-4d8e-9a0e-1c1f2b3c4d5e",
                Map.of("blueprint", "site", "version", "0.0.1", "type", "tar"), "build",
                new java.io.IOException("connection reset by the mirror"));
        Failure f = Failure.ofIncident("build", r.incident());
        assertThat(f.step()).isEqualTo("build");
        assertThat(f.summary()).isEqualTo("connection reset by the mirror");
        assertThat(f.lastLines()).contains("retries exhausted");
    }
}
