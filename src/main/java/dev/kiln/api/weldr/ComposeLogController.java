package dev.kiln.api.weldr;

import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.pipeline.ComposeService;
import dev.kiln.store.ResultsDir;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
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
        composes.get(uuid).orElseThrow(() -> new WeldrException("UnknownUUID", uuid + " is not a valid build uuid"));
        byte[] body = WeldrRequests.upTo(request, MAX,
                () -> new WeldrException("ComposeError", "a log append is at most " + MAX + " bytes"));
        int lines = appendLines(composes.results(uuid), "[worker] ", new String(body, StandardCharsets.UTF_8));
        return Map.of("status", true, "lines", lines);
    }
}
