package dev.kiln.api.weldr;

import dev.kiln.pipeline.ComposeService.Compose;
import dev.kiln.pipeline.ComposeService;
import dev.kiln.store.ResultsArchive;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

/**
 * The files of a compose over the Weldr API: its log while it runs, and once it has ended its logs, metadata and
 * results as tar archives and its image (spec §1.5).
 */
@RestController
@RequestMapping("/api/{version:v[01]}/compose")
class ComposeFilesController {

    private static final MediaType TAR = MediaType.parseMediaType("application/x-tar");

    private final ComposeService composes;

    ComposeFilesController(ComposeService composes) {
        this.composes = composes;
    }

    @GetMapping("/log/{uuid}")
    ResponseEntity<?> log(@PathVariable String uuid, @RequestParam(required = false) String size) throws IOException {
        Compose c = ComposeUuids.require(composes, uuid);
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
        Compose c = ComposeUuids.require(composes, uuid);
        if (!c.status().equals(ComposeService.FINISHED) && !c.status().equals(ComposeService.FAILED)) {
            throw new WeldrException("BuildInWrongState", "Build " + c.id() + " not in FINISHED or FAILED state.");
        }
        return c;
    }

    private static ResponseEntity<StreamingResponseBody> download(String filename, MediaType type, StreamingResponseBody body) {
        return ResponseEntity.ok().contentType(type)
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=" + filename).body(body);
    }

    /** One of a compose's tar archives, written as it is sent. */
    private interface Archive {
        void write(ResultsDir results, Compose compose, OutputStream out) throws IOException;
    }

    private ResponseEntity<StreamingResponseBody> archive(String uuid, String suffix, Archive archive) {
        Compose c = finishedOrFailed(uuid);
        ResultsDir results = composes.results(c.id());
        return download(c.id() + suffix, TAR, out -> archive.write(results, c, out));
    }

    @GetMapping("/logs/{uuid}")
    ResponseEntity<StreamingResponseBody> logs(@PathVariable String uuid) {
        return archive(uuid, "-logs.tar", (results, c, out) -> ResultsArchive.logs(results, out));
    }

    @GetMapping("/metadata/{uuid}")
    ResponseEntity<StreamingResponseBody> metadata(@PathVariable String uuid) {
        return archive(uuid, "-metadata.tar", (results, c, out) -> ResultsArchive.metadata(results,
                c.type().imageName(), out));
    }

    @GetMapping("/results/{uuid}")
    ResponseEntity<StreamingResponseBody> results(@PathVariable String uuid) {
        return archive(uuid, ".tar", (results, c, out) -> ResultsArchive.results(results, out));
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
