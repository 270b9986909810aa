package dev.kiln.api.weldr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.blueprint.BlueprintStore;
import dev.kiln.depsolve.Dependencies;
import dev.kiln.depsolve.DepsFile;
import dev.kiln.image.OutputTypes;
import dev.kiln.pipeline.ComposeChecks;
import dev.kiln.output.OutputType;
import dev.kiln.pipeline.ComposeService.Compose;
import dev.kiln.pipeline.ComposeService;
import dev.kiln.store.Progress;
import dev.kiln.store.ResultsDir;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.math.BigDecimal;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/v0|v1/compose/*}: start, types, queue, finished, failed, status, info, cancel, delete, logs, image. */
@RestController
@RequestMapping("/api/{version:v[01]}/compose")
class ComposeController {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern API_STRING = Pattern.compile("[a-zA-Z0-9_,.:+*-]+");
    private final ComposeService composes;
    private final OutputTypes outputTypes;

    private final ComposeChecks checks;

    ComposeController(ComposeService composes, OutputTypes outputTypes,
            ComposeChecks checks) {
        this.composes = composes;
        this.outputTypes = outputTypes;
        this.checks = checks;
    }

    @PostMapping
    Map<String, Object> start(@PathVariable String version, HttpServletRequest request,
            @RequestParam(required = false) String test) throws IOException, InterruptedException {
        ComposeStartRequest start = ComposeStartRequest.parse(request, test);
        String name = start.name();
        String branch = start.branch();
        String typeName = start.type();
        String br = branch.isEmpty() ? BlueprintStore.DEFAULT_BRANCH : branch;
        ComposeChecks.Checked checked;
        OutputType type;
        try {
            checked = checks.blueprint(br, name); // before the type, as lorax orders its errors
            type = OutputType.byName(typeName).orElseThrow(() -> new WeldrException("BadComposeType",
                    "Invalid compose type (" + typeName + "), must be one of " + OutputType.ids()));
            checks.buildable(checked, type, start.test());
        } catch (ComposeChecks.Rejected e) {
            throw new WeldrException(e.reason() == ComposeChecks.Reason.UNKNOWN_BLUEPRINT ? "UnknownBlueprint"
                    : "BuildFailed", e.getMessage());
        }
        String uuid = composes.submit(checked.blueprint(), checked.commit(), type, typeName, start.size(), start.test(),
                start.bootTest());
        Optional<String> failure = composes.awaitDepsolve(uuid, 30_000);
        if (failure.isPresent()) {
            composes.delete(uuid);
            throw new WeldrException("BuildFailed", failure.get());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("status", true);
        out.put("build_id", uuid);
        if (version.equals("v1")) {
            out.put("upload_id", "");
        }
        return out;
    }

    /**
     * An epoch time as lorax wrote it, {@code 1795882697.53}: a decimal, which Jackson writes out in full (a double
     * of this size it writes as {@code 1.79588269753E9}, which clients print as it is).
     */
    static BigDecimal seconds(Double epochSeconds) {
        if (epochSeconds == null) {
            return null;
        }
        BigDecimal d = new BigDecimal(Double.toString(epochSeconds)).stripTrailingZeros();
        return d.scale() < 0 ? d.setScale(0) : d;
    }

    @ExceptionHandler(ComposeStartRequest.MultiError.class)
    ResponseEntity<Map<String, Object>> multi(ComposeStartRequest.MultiError e) {
        return ResponseEntity.badRequest().contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("status", false, "errors", e.errors));
    }

    @GetMapping("/types")
    Map<String, Object> types(@RequestParam(required = false) String distro) {
        WeldrRequests.distro(distro);
        List<Map<String, Object>> types = new ArrayList<>();
        for (OutputType t : OutputType.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.id());
            m.put("enabled", outputTypes.enabled(t));
            types.add(m);
        }
        return Map.of("types", types);
    }

    @GetMapping("/queue")
    Map<String, Object> queue(@PathVariable String version) {
        List<Compose> all = composes.list(null);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("new", entries(all, ComposeService.WAITING, version));
        out.put("run", entries(all, ComposeService.RUNNING, version));
        return out;
    }

    @GetMapping("/finished")
    Map<String, Object> finished(@PathVariable String version) {
        return Map.of("finished", entries(composes.list(null), ComposeService.FINISHED, version));
    }

    @GetMapping("/failed")
    Map<String, Object> failed(@PathVariable String version) {
        return Map.of("failed", entries(composes.list(null), ComposeService.FAILED, version));
    }

    private List<Map<String, Object>> entries(List<Compose> all, String status, String version) {
        return all.stream().filter(c -> c.status().equals(status)).map(c -> entry(c, version, true)).toList();
    }

    static Map<String, Object> entry(Compose c, String version) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("blueprint", c.blueprint());
        m.put("version", c.version());
        m.put("compose_type", c.typeName());
        m.put("image_size", c.imageSize());
        m.put("queue_status", c.status());
        m.put("job_created", seconds(c.created()));
        m.put("job_started", seconds(c.started()));
        m.put("job_finished", seconds(c.finished()));
        if (version.equals("v1")) {
            m.put("uploads", List.of());
        }
        if (c.failure() != null) { // Kiln's addition: why it failed, in a line
            m.put("error", Map.of("step", c.failure().step(), "reason", c.failure().shortForm()));
        }
        return m;
    }

    /** {@link #entry}, with a running compose's current phase in a line ({@code phase}, Kiln's addition). */
    private Map<String, Object> entry(Compose c, String version, boolean withPhase) {
        Map<String, Object> m = entry(c, version);
        JsonNode progress = withPhase ? current(c, composes.results(c.id())) : null;
        if (progress != null) {
            m.put("phase", Progress.shortForm(progress));
        }
        return m;
    }

    @GetMapping("/status/{uuids}")
    Map<String, Object> status(@PathVariable String version, @PathVariable String uuids,
            @RequestParam(required = false) String blueprint, @RequestParam(required = false) String status,
            @RequestParam(required = false) String type) {
        for (String filter : Arrays.asList(blueprint, status, type)) {
            if (filter != null && !API_STRING.matcher(filter).matches()) {
                throw new WeldrException("InvalidChars", "Invalid characters in API path");
            }
        }
        List<WeldrError> errors = new ArrayList<>();
        List<Compose> found;
        if (uuids.strip().equals("*")) {
            found = composes.list(null);
        } else {
            Set<String> wanted = new LinkedHashSet<>();
            for (String raw : uuids.split(",")) {
                String u = ComposeUuids.check(raw.strip().toLowerCase(Locale.ROOT), false);
                if (u == null) {
                    errors.add(new WeldrError("UnknownUUID", raw.strip().toLowerCase(Locale.ROOT) + " is not a valid build uuid"));
                } else {
                    wanted.add(u);
                }
            }
            found = wanted.isEmpty() ? List.of() : composes.list(wanted);
            Set<String> seen = new HashSet<>();
            found.forEach(c -> seen.add(c.id()));
            wanted.stream().filter(u -> !seen.contains(u))
                    .forEach(u -> errors.add(new WeldrError("UnknownUUID", u + " is not a valid build uuid")));
        }
        List<Map<String, Object>> out = found.stream()
                .filter(c -> blueprint == null || c.blueprint().equals(blueprint))
                .filter(c -> status == null || c.status().equals(status))
                .filter(c -> type == null || c.typeName().equals(type) || c.type().id().equals(type))
                .map(c -> entry(c, version, true)).toList();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("uuids", out);
        body.put("errors", errors);
        return body;
    }

    @GetMapping("/info/{uuid}")
    Map<String, Object> info(@PathVariable String version, @PathVariable String uuid) {
        Compose c = ComposeUuids.require(composes, uuid);
        ResultsDir results = composes.results(c.id());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", c.id());
        out.put("queue_status", c.status());
        out.put("compose_type", c.typeName());
        out.put("commit", results.has(ResultsDir.COMMIT) ? results.read(ResultsDir.COMMIT).strip() : "");
        try {
            String bp = results.has(ResultsDir.FROZEN) ? results.read(ResultsDir.FROZEN) : results.read(ResultsDir.BLUEPRINT);
            out.put("blueprint", BlueprintParser.parseToml(bp).data());
            List<Map<String, Object>> deps = results.has(ResultsDir.DEPS) ? DepsFile.read(results.read(ResultsDir.DEPS)) : List.of();
            out.put("deps", Map.of("packages", Dependencies.forApi(deps)));
        } catch (RuntimeException e) {
            throw new WeldrException("ComposeError", c.id() + ": " + e.getMessage());
        }
        out.put("config", results.has(ResultsDir.CONFIG) ? results.read(ResultsDir.CONFIG) : "");
        out.put("image_size", c.imageSize());
        if (version.equals("v1")) {
            out.put("uploads", List.of());
        }
        // Kiln's additions (clients ignore unknown keys): the current step and the bytes the build has written
        String step = composes.currentStep(c.id());
        out.put("step", step == null ? "" : step);
        out.put("progress_bytes", bytesIn(results.file(ResultsDir.COMPOSE)));
        JsonNode progress = current(c, results);
        if (progress != null) { // the step's current phase, with its counts: compose/progress.json (store.Progress)
            out.put("progress", progress);
            out.put("phase", Progress.shortForm(progress));
        }
        if (c.failure() != null) { // why it failed: the step, what failed, the last lines it printed
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("step", c.failure().step());
            error.put("reason", c.failure().summary());
            error.put("last_lines", c.failure().lastLines());
            out.put("error", error);
        }
        return out;
    }

    /**
     * A running compose's current phase; null when it reports none, is not running, or the report is an earlier
     * step's (the build's last phase while a step after it runs).
     */
    static JsonNode current(Compose c, ResultsDir results) {
        JsonNode p = c.status().equals(ComposeService.RUNNING) ? Progress.read(results) : null;
        return p != null && p.path("step").asText().equals(c.step()) ? p : null;
    }

    private static long bytesIn(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
    }

    @DeleteMapping("/cancel/{uuid}")
    Map<String, Object> cancel(@PathVariable String uuid) {
        Compose c = ComposeUuids.require(composes, uuid);
        if (!c.status().equals(ComposeService.WAITING) && !c.status().equals(ComposeService.RUNNING)) {
            throw new WeldrException("BuildInWrongState", "Build " + c.id() + " is not in WAITING or RUNNING.");
        }
        try {
            composes.cancel(c.id());
        } catch (RuntimeException e) {
            throw new WeldrException("ComposeError", c.id() + ": " + e.getMessage());
        }
        return Map.of("status", true, "uuid", c.id());
    }

    @DeleteMapping("/delete/{uuids}")
    Map<String, Object> delete(@PathVariable String uuids) {
        List<Map<String, Object>> done = new ArrayList<>();
        List<WeldrError> errors = new ArrayList<>();
        for (String raw : uuids.split(",")) {
            String uuid = raw.strip().toLowerCase(Locale.ROOT);
            Optional<Compose> c = ResultsDir.isUuid(uuid) ? composes.get(uuid) : Optional.empty();
            if (c.isEmpty()) {
                errors.add(new WeldrError("UnknownUUID", uuid + " is not a valid build uuid"));
            } else if (!c.get().status().equals(ComposeService.FINISHED) && !c.get().status().equals(ComposeService.FAILED)) {
                errors.add(new WeldrError("BuildInWrongState", "Build " + uuid + " is not in FINISHED or FAILED."));
            } else {
                try {
                    composes.delete(uuid);
                    done.add(Map.of("uuid", uuid, "status", true));
                } catch (RuntimeException e) {
                    errors.add(new WeldrError("ComposeError", uuid + ": " + e.getMessage()));
                }
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("uuids", done);
        body.put("errors", errors);
        return body;
    }
}
