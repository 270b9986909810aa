package dev.kiln.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProgressTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UUID = "0b9c3f4e-2d1a-4c5b-9e8f-7a6b5c4d3e2f";

    @TempDir
    Path root;

    private final AtomicLong now = new AtomicLong(1_800_000_000_000L);
    private final List<String> notes = new ArrayList<>();

    private Progress progress(ResultsDir results) {
        return new Progress(results, notes::add, now::get);
    }

    private ResultsDir results() {
        ResultsDir r = new ResultsDir(root.resolve("results"), UUID);
        r.create();
        return r;
    }

    @Test
    void phasesGoToTheProgressFileAndEachEndedPhaseAndStepToTheMetrics() throws Exception {
        ResultsDir r = results();
        Progress p = progress(r);
        p.start("build");
        p.phase("fetch", 3, "packages");
        now.addAndGet(1500);
        p.bytes(3_000_000);
        p.step("hello");
        p.step("bash");
        p.step("libc6"); // the last of the total: written at once, whatever the time since the last write
        JsonNode report = Progress.read(r);
        assertThat(report.path("phase").asText()).isEqualTo("fetch");
        assertThat(report.path("done").asInt()).isEqualTo(3);
        assertThat(report.path("total").asInt()).isEqualTo(3);
        assertThat(report.path("item").asText()).isEqualTo("libc6");
        assertThat(report.path("rate").asLong()).isEqualTo(2_000_000); // 3 MB in 1.5 s
        assertThat(Progress.shortForm(report)).isEqualTo("fetch 3/3 packages (libc6)");

        p.phase("configure", 3, "packages", 1, "libc6");
        now.addAndGet(2000);
        p.phase("unpack", 3, "packages", 2, "bash");
        now.addAndGet(500);
        p.phase("configure", 3, "packages", 3, "bash"); // a phase that comes back
        now.addAndGet(1000);
        p.phase("compress", 100, "%");
        now.addAndGet(100);
        p.advance(30, ""); // within a quarter of a second of the last write: not written
        assertThat(Progress.shortForm(Progress.read(r))).isEqualTo("compress 0%");
        now.addAndGet(150);
        p.advance(61, "");
        assertThat(Progress.shortForm(Progress.read(r))).isEqualTo("compress 61%");
        p.end(true, "kiln-1@host-build-0");

        JsonNode m = JSON.readTree(r.read(ResultsDir.METRICS));
        assertThat(m.path("compose").asText()).isEqualTo(UUID);
        List<String> phases = new ArrayList<>();
        m.path("phases").forEach(e -> phases.add(e.path("phase").asText() + " "
                + e.path("seconds").decimalValue().stripTrailingZeros().toPlainString() + " " + e.path("count").asText("-")));
        assertThat(phases).containsExactly("fetch 1.5 3", "configure 2 1", "unpack 0.5 2", "configure 1 3",
                "compress 0.25 -");
        assertThat(r.read(ResultsDir.METRICS)).as("times as decimals, as times.toml has them")
                .contains("\"started\" : 1800000000").doesNotContain("E9");
        assertThat(m.at("/phases/0/bytes").asLong()).isEqualTo(3_000_000);
        assertThat(m.at("/steps/0/step").asText()).isEqualTo("build");
        assertThat(m.at("/steps/0/seconds").asDouble()).isEqualTo(5.25);
        assertThat(m.at("/steps/0/outcome").asText()).isEqualTo("done");
        assertThat(m.at("/steps/0/worker").asText()).isEqualTo("kiln-1@host-build-0");
        assertThat(notes).contains("phase fetch (3 packages)", "phase compress (100 %)");
    }

    @Test
    void theRemainderIsEstimatedFromTheLastBuildOfTheSameSetSkippingWhatThisOneSkips() throws Exception {
        Path history = root.resolve("estimates/key.json");
        ResultsDir r = results();
        Progress first = progress(r);
        first.history(history);
        first.start("build");
        for (String[] phase : new String[][] {{"fetch", "10000"}, {"configure", "40000"}, {"customize", "5000"},
                {"compress", "20000"}}) {
            first.phase(phase[0], phase[0].equals("configure") ? 100 : 0, "packages");
            now.addAndGet(Long.parseLong(phase[1]));
        }
        first.end(true, null);
        assertThat(Files.readString(history)).contains("\"configure\":40.0");

        Progress second = progress(results());
        second.history(history);
        second.start("build");
        second.phase("configure", 100, "packages");
        second.advance(25, "perl");
        now.addAndGet(300);
        second.advance(50, "php8.2-common"); // half of configure (20 s) + customize 5 + compress 20
        now.addAndGet(300);
        second.advance(100, "");
        assertThat(Progress.read(r).path("eta_seconds").asLong()).isEqualTo(25);
        second.phase("customize"); // a cached tree: fetch and configure skipped, not still to come
        Progress third = progress(r);
        third.history(history);
        third.start("build");
        third.phase("customize");
        assertThat(Progress.read(r).path("eta_seconds").asLong()).isEqualTo(25); // 5 + 20, not + fetch + configure
        assertThat(Progress.shortForm(Progress.read(r))).isEqualTo("customize, about 25 s left");

        Progress none = progress(r);
        none.history(root.resolve("estimates/never-built.json"));
        none.start("build");
        none.phase("fetch", 4, "packages");
        assertThat(Progress.read(r).has("eta_seconds")).isFalse();
    }

    @Test
    void aRemoteReportIsTakenOnlyAsThisClassWritesOne() throws Exception {
        ObjectNode good = (ObjectNode) JSON.readTree("{\"seq\":3,\"step\":\"build\",\"phase\":\"configure\",\"done\":4,"
                + "\"total\":9,\"unit\":\"packages\",\"item\":\"libstdc++6\",\"bytes\":0,\"rate\":0,\"eta_seconds\":12}");
        assertThat(Progress.checked(good)).isEqualTo(good);
        for (String hostile : new String[] {
                "[]", "\"configure\"", "{}", "{\"phase\":\"a\\nb\"}", "{\"phase\":\"x\",\"done\":-1}",
                "{\"phase\":\"x\",\"extra\":1}", "{\"phase\":\"../../etc\",\"item\":\"" + "a".repeat(300) + "\"}",
                "{\"phase\":\"x\",\"item\":\"a b\"}", "{\"phase\":{\"nested\":1}}", "{\"phase\":\"x\\u0000\"}",
                "{\"phase\":\"x\",\"seq\":\"1\"}"}) {
            assertThatThrownBy(() -> Progress.checked(JSON.readTree(hostile))).as(hostile)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        ResultsDir r = results();
        Progress.merge(r, JSON.readTree("{\"compose\":\"someone-else\",\"steps\":[{\"step\":\"build\",\"seconds\":3.5},"
                + "{\"step\":\"x y\"},{\"step\":{\"a\":1}},7],\"phases\":[{\"phase\":\"mkfs\",\"seconds\":1e400}],"
                + "\"other\":[1]}"));
        JsonNode m = JSON.readTree(r.read(ResultsDir.METRICS));
        assertThat(m.path("compose").asText()).isEqualTo(UUID);
        assertThat(m.path("steps")).hasSize(1);
        assertThat(m.path("phases")).isEmpty();
        assertThat(m.has("other")).isFalse();
    }

    @Test
    void nothingIsWrittenIntoAResultsDirectoryThatIsGone() {
        ResultsDir r = results();
        Progress p = progress(r);
        p.start("build");
        r.deleteAll(); // cancelled meanwhile
        p.phase("configure", 3, "packages");
        p.end(false, null);
        assertThat(r.path()).doesNotExist();
    }
}
