package dev.kiln.api.weldr;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.pipeline.HeldTasks;
import dev.kiln.pipeline.HeldTasks.Held;
import dev.kiln.store.AtomicFiles;
import dev.kiln.store.Progress;
import dev.kiln.store.ResultsDir;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/**
 * {@code /api/kiln/worker/<task>/…}: what a remote build worker ({@code kiln worker}) needs from a node, for an
 * external task it holds and only while it holds it ({@link HeldTasks}; on TCP with the API token, like the rest of
 * {@code /api/kiln/}): the compose's plan files, the built image for a boot test, the start and the failure of its
 * step, its log lines and log files, and the image it built, which is checked against its SHA-256 and renamed into
 * {@code compose/} atomically.
 */
@RestController
@RequestMapping("/api/kiln/worker/{task}")
class WorkerController {

    private static final JsonMapper SBOM_JSON = JsonMapper.builder().build();

    /** The files of a compose a step may read (the image: what a boot test boots). */
    static final Set<String> INPUTS = Set.of(ResultsDir.BLUEPRINT, ResultsDir.CONFIG, ResultsDir.DEPS, ResultsDir.FROZEN,
            ResultsDir.FINAL_KICKSTART, "image");
    private static final Pattern LOG_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,59}\\.log");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_LINES = 64 * 1024;
    private static final int MAX_LOG_FILE = 16 << 20;

    private final HeldTasks held;
    private final long maxImageBytes;

    WorkerController(HeldTasks held, @Value("${kiln.worker.max-image-bytes:68719476736}") long maxImageBytes) {
        this.held = held;
        this.maxImageBytes = maxImageBytes;
    }

    private Held require(String task, String worker) {
        if (!HeldTasks.isTaskId(task) || !HeldTasks.isWorkerId(worker)) {
            throw new WeldrException("InvalidChars", "Invalid characters in API path");
        }
        return held.held(task, worker).orElseThrow(() -> new WeldrException("TaskNotHeld", "worker " + worker
                + " does not hold task " + task + " (never locked, expired, completed, or its compose is gone)",
                HttpStatus.CONFLICT));
    }

    @GetMapping("/input/{name}")
    ResponseEntity<StreamingResponseBody> input(@PathVariable String task, @RequestParam String worker,
            @PathVariable String name) throws IOException {
        Held h = require(task, worker);
        if (!INPUTS.contains(name)) {
            throw new WeldrException("UnknownInput", "a step reads only " + INPUTS.stream().sorted().toList());
        }
        Path file = name.equals("image") ? h.results().file(ResultsDir.COMPOSE).resolve(h.type().imageName())
                : h.results().file(name);
        if (!Files.isRegularFile(file)) {
            throw new WeldrException("BuildMissingFile", "compose " + h.results().uuid() + " has no " + name + " yet",
                    HttpStatus.NOT_FOUND);
        }
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_OCTET_STREAM).contentLength(Files.size(file))
                .body(out -> Files.copy(file, out));
    }

    @PostMapping("/started")
    Map<String, Object> started(@PathVariable String task, @RequestParam String worker) {
        held.started(require(task, worker));
        return Map.of("status", true);
    }

    @PostMapping("/failed")
    Map<String, Object> failed(@PathVariable String task, @RequestParam String worker, HttpServletRequest request)
            throws IOException {
        Held h = require(task, worker);
        held.failed(h, clean(text(request, MAX_LINES)));
        return Map.of("status", true);
    }

    @PostMapping("/log")
    Map<String, Object> log(@PathVariable String task, @RequestParam String worker, HttpServletRequest request)
            throws IOException {
        Held h = require(task, worker);
        int lines = ComposeLogController.appendLines(h.results(), "[" + worker + "] ", text(request, MAX_LINES));
        return Map.of("status", true, "lines", lines);
    }

    @PutMapping("/logs/{name}")
    Map<String, Object> logFile(@PathVariable String task, @RequestParam String worker, @PathVariable String name,
            HttpServletRequest request) throws IOException {
        Held h = require(task, worker);
        if (!LOG_NAME.matcher(name).matches() || name.equals("combined.log")) {
            throw new WeldrException("InvalidChars", "a log file is named [a-z0-9][a-z0-9._-]*.log (not combined.log)");
        }
        byte[] body = WeldrRequests.upTo(request, MAX_LOG_FILE,
                () -> new WeldrException("ComposeError", "a log file is at most " + MAX_LOG_FILE + " bytes"));
        AtomicFiles.write(h.results().file(ResultsDir.LOGS).resolve(name), body);
        return Map.of("status", true);
    }

    /** The build's SBOM ({@code sbom.spdx.json}), written from the tree on the worker: JSON, at most 16 MiB. */
    @PutMapping("/sbom")
    Map<String, Object> sbom(@PathVariable String task, @RequestParam String worker, HttpServletRequest request)
            throws IOException {
        Held h = require(task, worker);
        byte[] body = WeldrRequests.upTo(request, MAX_LOG_FILE,
                () -> new WeldrException("ComposeError", "an SBOM is at most " + MAX_LOG_FILE + " bytes"));
        try {
            if (!SBOM_JSON.readTree(body).path("spdxVersion").asText().startsWith("SPDX-")) {
                throw new WeldrException("ComposeError", "an SBOM is an SPDX JSON document");
            }
        } catch (JsonProcessingException e) {
            throw new WeldrException("ComposeError", "an SBOM is an SPDX JSON document: " + e.getOriginalMessage());
        }
        AtomicFiles.write(h.results().file(ResultsDir.SBOM), body);
        return Map.of("status", true);
    }

    /** The step's current phase ({@code compose/progress.json} on the worker), at most 16 KiB, checked field by field. */
    @PutMapping("/progress")
    Map<String, Object> progress(@PathVariable String task, @RequestParam String worker, HttpServletRequest request)
            throws IOException {
        Held h = require(task, worker);
        byte[] body = WeldrRequests.upTo(request, 16 * 1024,
                () -> new WeldrException("ComposeError", "a progress report is at most 16 KiB"));
        try {
            Progress.write(h.results(), Progress.checked(Progress.parseJson(body)));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new WeldrException("ComposeError", "not a progress report: " + e.getMessage());
        }
        return Map.of("status", true);
    }

    /** The step's entries of {@code metrics.json} (its phases and itself), added to the compose's; at most 1 MiB. */
    @PutMapping("/metrics")
    Map<String, Object> metrics(@PathVariable String task, @RequestParam String worker, HttpServletRequest request)
            throws IOException {
        Held h = require(task, worker);
        byte[] body = WeldrRequests.upTo(request, 1 << 20,
                () -> new WeldrException("ComposeError", "metrics are at most 1 MiB"));
        JsonNode m;
        try {
            m = Progress.parseJson(body);
        } catch (JsonProcessingException e) {
            throw new WeldrException("ComposeError", "metrics are a JSON object: " + e.getOriginalMessage());
        }
        if (m == null || !m.isObject()) {
            throw new WeldrException("ComposeError", "metrics are a JSON object");
        }
        Progress.merge(h.results(), m);
        return Map.of("status", true);
    }

    @PutMapping("/image")
    Map<String, Object> image(@PathVariable String task, @RequestParam String worker, @RequestParam String sha256,
            HttpServletRequest request) throws IOException {
        Held h = require(task, worker);
        if (!SHA256.matcher(sha256).matches()) {
            throw new WeldrException("ComposeError", "sha256 is 64 lower-case hex digits");
        }
        Path image = h.results().file(ResultsDir.COMPOSE).resolve(h.type().imageName());
        long size;
        try (InputStream in = request.getInputStream()) {
            size = AtomicFiles.receive(image, in, maxImageBytes, sha256, () -> held.held(task, worker).isPresent());
        } catch (AtomicFiles.RefusedException e) {
            throw new WeldrException("ImageRefused", "image of compose " + h.results().uuid() + " refused: "
                    + e.getMessage(), HttpStatus.CONFLICT);
        }
        h.results().log("INFO", "image " + h.type().imageName() + " received from " + worker + ": " + size
                + " bytes, SHA-256 " + sha256);
        return Map.of("status", true, "size", size);
    }

    private static String text(HttpServletRequest request, int max) throws IOException {
        return new String(WeldrRequests.upTo(request, max,
                () -> new WeldrException("ComposeError", "at most " + max + " bytes at once")), StandardCharsets.UTF_8);
    }

    private static String clean(String line) {
        return line.replaceAll("\\p{Cntrl}", "?");
    }
}
