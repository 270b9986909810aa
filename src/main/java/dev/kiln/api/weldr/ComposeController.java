package dev.kiln.api.weldr;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.blueprint.BlueprintStore;
import dev.kiln.blueprint.Customizations;
import dev.kiln.depsolve.DepsFile;
import dev.kiln.image.OutputTypes;
import dev.kiln.output.OutputType;
import dev.kiln.pipeline.ComposeService.Compose;
import dev.kiln.pipeline.ComposeService;
import dev.kiln.store.ResultsArchive;
import dev.kiln.store.ResultsDir;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.util.InvalidMimeTypeException;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/** {@code /api/v0|v1/compose/*}: start, types, queue, finished, failed, status, info, cancel, delete, logs, image. */
@RestController
@RequestMapping("/api/{version:v[01]}/compose")
class ComposeController {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern API_STRING = Pattern.compile("[a-zA-Z0-9_,.:+*-]+");
    private static final MediaType TAR = MediaType.parseMediaType("application/x-tar");
    private final ComposeService composes;
    private final BlueprintStore blueprints;
    private final OutputTypes outputTypes;

    ComposeController(ComposeService composes, BlueprintStore blueprints, OutputTypes outputTypes) {
        this.composes = composes;
        this.blueprints = blueprints;
        this.outputTypes = outputTypes;
    }

    @PostMapping
    Map<String, Object> start(@PathVariable String version, HttpServletRequest request,
            @RequestParam(required = false) String test) throws IOException, InterruptedException {
        int testMode = 0;
        if (test != null) {
            testMode = switch (test) {
                case "1" -> 1;
                case "2" -> 2;
                default -> throw new WeldrException("BuildFailed", "test must be 1 or 2");
            };
        }
        MediaType contentType;
        try {
            contentType = request.getContentType() == null ? null : MediaType.parseMediaType(request.getContentType());
        } catch (InvalidMimeTypeException e) {
            contentType = null;
        }
        if (contentType == null || !MediaType.APPLICATION_JSON.equalsTypeAndSubtype(contentType)) {
            // as lorax (Flask's get_json): a body that is not declared JSON is no body; a web page cannot post JSON
            // to another origin without a preflight, so this also keeps cross-site form posts out
            throw new WeldrException("MissingPost", "Missing POST body: Content-Type must be application/json");
        }
        JsonNode body;
        try (InputStream in = request.getInputStream()) {
            byte[] bytes = in.readNBytes(WeldrRequests.MAX_BODY + 1);
            if (bytes.length == 0 || bytes.length > WeldrRequests.MAX_BODY) {
                throw new WeldrException("MissingPost", bytes.length == 0 ? "Missing POST body" : "POST body too large");
            }
            body = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new WeldrException("MissingPost", "Missing POST body: not JSON (" + e.getOriginalMessage() + ")");
        }
        if (body == null || !body.isObject()) {
            throw new WeldrException("MissingPost", "Missing POST body");
        }
        List<WeldrError> errors = new ArrayList<>();
        JsonNode nameNode = body.get("blueprint_name");
        JsonNode typeNode = body.get("compose_type");
        String name = nameNode == null || nameNode.isNull() ? null : nameNode.asText();
        String typeName = typeNode == null || typeNode.isNull() ? null : typeNode.asText();
        String branch = body.path("branch").asText("");
        if (name != null && !BlueprintNames.isValid(name)) {
            errors.add(new WeldrError("InvalidChars", "Invalid characters in API path"));
        }
        if (!branch.isEmpty() && !BlueprintNames.isValidBranch(branch)) {
            errors.add(new WeldrError("InvalidChars", "Invalid characters in branch argument"));
        }
        if (name == null) {
            errors.add(new WeldrError("UnknownBlueprint", "No 'blueprint_name' in the JSON request"));
        }
        if (typeName == null) {
            errors.add(new WeldrError("BadComposeType", "No 'compose_type' in the JSON request"));
        }
        if (!errors.isEmpty()) {
            throw new MultiError(errors);
        }
        String br = branch.isEmpty() ? BlueprintStore.DEFAULT_BRANCH : branch;
        Optional<Blueprint> blueprint = blueprints.committed(br, name);
        if (blueprint.isEmpty()) {
            throw new WeldrException("UnknownBlueprint", "Unknown blueprint name: " + name);
        }
        OutputType type = OutputType.byId(typeName).orElseThrow(() -> new WeldrException("BadComposeType",
                "Invalid compose type (" + typeName + "), must be one of " + OutputType.ids()));
        if (testMode == 0 && !outputTypes.enabled(type)) {
            throw new WeldrException("BuildFailed", "Compose type '" + type.id()
                    + "' is disabled: Kiln cannot build it yet (see the README)");
        }
        long size = 0;
        if (body.hasNonNull("size")) {
            if (!body.get("size").isIntegralNumber() || !body.get("size").canConvertToLong()
                    || body.get("size").asLong() < 0 || body.get("size").asLong() > Customizations.MAX_SIZE) {
                throw new WeldrException("BuildFailed", "'size' must be a number of bytes from 0 to 16 TiB");
            }
            size = body.get("size").asLong();
        }
        if (body.hasNonNull("upload")) {
            throw new WeldrException("UploadError", "Kiln does not upload images; download them with compose image");
        }
        if (body.path("ostree").path("ref").asText("").length() > 0) {
            throw new WeldrException("BuildFailed", "ostree composes are not supported");
        }
        List<String> problems = Customizations.problems(blueprint.get().customizations());
        if (!problems.isEmpty()) {
            throw new WeldrException("BuildFailed", "Invalid customizations in " + name + ": " + String.join("; ", problems));
        }
        String commit = blueprints.changes(br, name).get(0).commit();
        Boolean bootTest = null; // Kiln's own field: boot the image in QEMU before the compose finishes
        if (body.hasNonNull("boot_test")) {
            if (!body.get("boot_test").isBoolean()) {
                throw new WeldrException("BuildFailed", "'boot_test' must be true or false");
            }
            bootTest = body.get("boot_test").asBoolean();
        }
        String uuid = composes.submit(blueprint.get(), commit, type, size, testMode, bootTest);
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

    /** Several errors in one envelope (lorax collects them, InvalidChars first). */
    static final class MultiError extends RuntimeException {
        final List<WeldrError> errors;

        MultiError(List<WeldrError> errors) {
            super(errors.get(0).msg());
            this.errors = errors.stream().sorted((a, b) -> Boolean.compare(!a.id().equals("InvalidChars"),
                    !b.id().equals("InvalidChars"))).toList();
        }
    }

    @ExceptionHandler(MultiError.class)
    ResponseEntity<Map<String, Object>> multi(MultiError e) {
        return ResponseEntity.badRequest().contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("status", false, "errors", e.errors));
    }

    @GetMapping("/types")
    Map<String, Object> types() {
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

    private static List<Map<String, Object>> entries(List<Compose> all, String status, String version) {
        return all.stream().filter(c -> c.status().equals(status)).map(c -> entry(c, version)).toList();
    }

    static Map<String, Object> entry(Compose c, String version) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("blueprint", c.blueprint());
        m.put("version", c.version());
        m.put("compose_type", c.type().id());
        m.put("image_size", c.imageSize());
        m.put("queue_status", c.status());
        m.put("job_created", c.created());
        m.put("job_started", c.started());
        m.put("job_finished", c.finished());
        if (version.equals("v1")) {
            m.put("uploads", List.of());
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
                String u = checkUuid(raw.strip().toLowerCase(Locale.ROOT), false);
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
                .filter(c -> type == null || c.type().id().equals(type))
                .map(c -> entry(c, version)).toList();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("uuids", out);
        body.put("errors", errors);
        return body;
    }

    /** A canonical UUID, InvalidChars for text that is not even an API string; null (or an error) if not a UUID. */
    private static String checkUuid(String uuid, boolean required) {
        if (!API_STRING.matcher(uuid).matches()) {
            throw new WeldrException("InvalidChars", "Invalid characters in API path");
        }
        if (!ResultsDir.isUuid(uuid)) {
            if (required) {
                throw new WeldrException("UnknownUUID", uuid + " is not a valid build uuid");
            }
            return null;
        }
        return uuid;
    }

    private Compose require(String raw) {
        String uuid = checkUuid(raw.strip().toLowerCase(Locale.ROOT), true);
        return composes.get(uuid).orElseThrow(() -> new WeldrException("UnknownUUID", uuid + " is not a valid build uuid"));
    }

    @GetMapping("/info/{uuid}")
    Map<String, Object> info(@PathVariable String version, @PathVariable String uuid) {
        Compose c = require(uuid);
        ResultsDir results = composes.results(c.id());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", c.id());
        out.put("queue_status", c.status());
        out.put("compose_type", c.type().id());
        out.put("commit", results.has(ResultsDir.COMMIT) ? results.read(ResultsDir.COMMIT).strip() : "");
        try {
            String bp = results.has(ResultsDir.FROZEN) ? results.read(ResultsDir.FROZEN) : results.read(ResultsDir.BLUEPRINT);
            out.put("blueprint", BlueprintParser.parseToml(bp).data());
            List<Map<String, Object>> deps = results.has(ResultsDir.DEPS) ? DepsFile.read(results.read(ResultsDir.DEPS)) : List.of();
            out.put("deps", Map.of("packages", deps));
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
        return out;
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
        Compose c = require(uuid);
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

    @GetMapping("/log/{uuid}")
    ResponseEntity<?> log(@PathVariable String uuid, @RequestParam(required = false) String size) throws IOException {
        Compose c = require(uuid);
        if (c.status().equals(ComposeService.WAITING)) {
            return ResponseEntity.ok(Map.of("status", false, "errors", List.of(new WeldrError("BuildInWrongState",
                    "Build " + c.id() + " has not started yet. No logs to view"))));
        }
        long kib;
        try {
            kib = size == null ? 1024 : Long.parseLong(size);
            if (kib <= 0 || kib > Long.MAX_VALUE / 1024) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new WeldrException("ComposeError", "Invalid log size: " + size);
        }
        Path log = composes.results(c.id()).file(ResultsDir.LOGS).resolve("combined.log");
        if (!Files.isRegularFile(log)) {
            throw new WeldrException("ComposeError", "No log available.");
        }
        return ResponseEntity.ok().contentType(MediaType.parseMediaType("text/plain;charset=UTF-8")).body(tail(log, kib * 1024));
    }

    /** The last {@code bytes} of a file, starting at a line boundary. */
    static String tail(Path file, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long start = Math.max(0, f.length() - bytes);
            f.seek(start);
            byte[] data = new byte[(int) (f.length() - start)];
            f.readFully(data);
            String text = new String(data, StandardCharsets.UTF_8);
            if (start > 0) {
                int nl = text.indexOf('\n');
                text = nl < 0 ? "" : text.substring(nl + 1);
            }
            return text;
        }
    }

    private Compose finishedOrFailed(String uuid) {
        Compose c = require(uuid);
        if (!c.status().equals(ComposeService.FINISHED) && !c.status().equals(ComposeService.FAILED)) {
            throw new WeldrException("BuildInWrongState", "Build " + c.id() + " not in FINISHED or FAILED state.");
        }
        return c;
    }

    private static ResponseEntity<StreamingResponseBody> download(String filename, MediaType type, StreamingResponseBody body) {
        return ResponseEntity.ok().contentType(type)
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=" + filename).body(body);
    }

    @GetMapping("/logs/{uuid}")
    ResponseEntity<StreamingResponseBody> logs(@PathVariable String uuid) {
        Compose c = finishedOrFailed(uuid);
        ResultsDir results = composes.results(c.id());
        return download(c.id() + "-logs.tar", TAR, out -> ResultsArchive.logs(results, out));
    }

    @GetMapping("/metadata/{uuid}")
    ResponseEntity<StreamingResponseBody> metadata(@PathVariable String uuid) {
        Compose c = finishedOrFailed(uuid);
        ResultsDir results = composes.results(c.id());
        return download(c.id() + "-metadata.tar", TAR, out -> ResultsArchive.metadata(results, c.type().imageName(), out));
    }

    @GetMapping("/results/{uuid}")
    ResponseEntity<StreamingResponseBody> results(@PathVariable String uuid) {
        Compose c = finishedOrFailed(uuid);
        ResultsDir results = composes.results(c.id());
        return download(c.id() + ".tar", TAR, out -> ResultsArchive.results(results, out));
    }

    @GetMapping("/image/{uuid}")
    ResponseEntity<StreamingResponseBody> image(@PathVariable String uuid) throws IOException {
        Compose c = finishedOrFailed(uuid);
        Path image = composes.results(c.id()).file(c.type().imageName());
        if (!Files.isRegularFile(image)) {
            throw new WeldrException("BuildMissingFile", "Build " + c.id() + " is missing image file " + c.type().imageName());
        }
        long length = Files.size(image);
        return ResponseEntity.ok().contentType(MediaType.parseMediaType(c.type().mimeType())).contentLength(length)
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=" + c.id() + "-" + c.type().imageName())
                .body(out -> Files.copy(image, out));
    }
}
