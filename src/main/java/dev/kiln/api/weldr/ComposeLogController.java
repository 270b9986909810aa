package dev.kiln.api.weldr;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.pipeline.ComposeService;
import dev.kiln.pipeline.ComposeService.Compose;
import dev.kiln.store.Progress;
import dev.kiln.store.ResultsDir;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /api/kiln/compose/log/<UUID>} (Kiln's own route, beside the Weldr API and behind the same door: the
 * socket, or the token on TCP): a worker of a step users added to the BPMN, in any language and on any machine,
 * appends its lines to the compose's log, where {@code compose log} shows them. The body is text, at most 64 KiB;
 * each line is kept as one log line marked {@code [worker]}, control characters replaced.
 */
@RestController
class ComposeLogController {

    private static final int MAX = 64 * 1024;
    private final ComposeService composes;

    ComposeLogController(ComposeService composes) {
        this.composes = composes;
    }

    /** Each non-blank line of {@code text} as one INFO line of the compose's log, tagged, control characters replaced. */
    static int appendLines(ResultsDir results, String tag, String text) {
        int lines = 0;
        for (String line : text.split("\r?\n")) {
            if (!line.isBlank()) {
                results.log("INFO", tag + line.replaceAll("\\p{Cntrl}", "?"));
                lines++;
            }
        }
        return lines;
    }

    @PostMapping("/api/kiln/compose/log/{uuid}")
    Map<String, Object> append(@PathVariable String uuid, HttpServletRequest request) throws IOException {
        if (!BlueprintNames.isValid(uuid)) {
            throw new WeldrException("InvalidChars", "Invalid characters in API path");
        }
        compose(uuid);
        byte[] body = WeldrRequests.upTo(request, MAX,
                () -> new WeldrException("ComposeError", "a log append is at most " + MAX + " bytes"));
        int lines = appendLines(composes.results(uuid), "[worker] ", new String(body, StandardCharsets.UTF_8));
        return Map.of("status", true, "lines", lines);
    }

    /** The longest a follow request waits for new lines, and how much it answers at once. */
    static final int MAX_WAIT_SECONDS = 30;
    static final int MAX_CHUNK = 1 << 20;

    /**
     * {@code GET /api/kiln/compose/log/<UUID>?after=BYTES&wait=SECONDS}: a long poll on the compose's log. Answers
     * at once the lines written after byte {@code after} (whole lines, at most 1 MiB), else waits up to {@code wait}
     * seconds (at most 30) for some; {@code next} is where to ask from next time, {@code ended} says that the
     * compose has ended and its log has been read to the end (what {@code kiln compose log --follow} stops on).
     * {@code progress} is the running step's current phase ({@code compose info}'s), or null; given
     * {@code progress=SEQ} (the {@code seq} of the report seen last), a new report also ends the wait.
     */
    @GetMapping("/api/kiln/compose/log/{uuid}")
    Map<String, Object> follow(@PathVariable String uuid, @RequestParam(defaultValue = "0") String after,
            @RequestParam(defaultValue = "0") String wait, @RequestParam(defaultValue = "-1") String progress)
            throws IOException, InterruptedException {
        if (!BlueprintNames.isValid(uuid)) {
            throw new WeldrException("InvalidChars", "Invalid characters in API path");
        }
        Compose c = compose(uuid);
        long from;
        int seconds;
        long seen;
        try {
            from = Long.parseLong(after);
            seconds = Integer.parseInt(wait);
            seen = Long.parseLong(progress);
        } catch (NumberFormatException e) {
            throw new WeldrException("ComposeError", "after, wait and progress are whole numbers");
        }
        if (from < 0 || seconds < 0) {
            throw new WeldrException("ComposeError", "after and wait are whole numbers");
        }
        ResultsDir results = composes.results(uuid);
        Path log = results.file(ResultsDir.LOGS).resolve("combined.log");
        long deadline = System.nanoTime() + Math.min(seconds, MAX_WAIT_SECONDS) * 1_000_000_000L;
        long asked = System.nanoTime();
        while (true) {
            boolean ended = c.status().equals(ComposeService.FINISHED) || c.status().equals(ComposeService.FAILED);
            JsonNode now = ComposeController.current(c, results);
            long size = Files.isRegularFile(log) ? Files.size(log) : 0;
            long start = Math.min(from, size); // a log written anew (a retried step) is read from its end
            if (size > start) {
                byte[] chunk = read(log, start, (int) Math.min(size - start, MAX_CHUNK));
                int end = chunk.length;
                if (!ended || size - start > MAX_CHUNK) { // whole lines only while more may come
                    while (end > 0 && chunk[end - 1] != '\n') {
                        end--;
                    }
                }
                if (end > 0) {
                    return answer(new String(chunk, 0, end, StandardCharsets.UTF_8), start + end, c.status(),
                            ended && start + end >= size, c.step(), now);
                }
            }
            boolean newReport = seen >= 0 && now != null && now.path("seq").asLong() != seen;
            if (ended || newReport || System.nanoTime() >= deadline) {
                return answer("", start, c.status(), ended, c.step(), now);
            }
            Thread.sleep(150); // the log's size is looked at often; the engine, for the status, once a second
            if (System.nanoTime() - asked >= 1_000_000_000L) {
                c = compose(uuid);
                asked = System.nanoTime();
            }
        }
    }

    private Compose compose(String uuid) {
        return composes.get(uuid).orElseThrow(() -> new WeldrException("UnknownUUID", uuid + " is not a valid build uuid"));
    }

    private static Map<String, Object> answer(String text, long next, String status, boolean ended, String step,
            JsonNode progress) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", text);
        m.put("next", next);
        m.put("queue_status", status);
        m.put("ended", ended);
        m.put("step", step == null ? "" : step);
        m.put("progress", progress);
        m.put("phase", progress == null ? "" : Progress.shortForm(progress));
        return m;
    }

    private static byte[] read(Path file, long at, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, at + b.position()) > 0) {
                // read until the chunk is full or the file ends
            }
            byte[] out = new byte[b.position()];
            b.flip().get(out);
            return out;
        }
    }
}
