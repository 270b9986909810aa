package dev.kiln.api.weldr;

import dev.kiln.pipeline.ComposeService;
import dev.kiln.pipeline.ComposeService.Compose;
import dev.kiln.store.Progress;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/kiln/compose/sbom/<UUID>} (Kiln's own route, behind the same door as the Weldr API): the SPDX 2.3
 * JSON bill of materials of a compose that built its image; also in its {@code metadata} and {@code results} tars.
 * {@code GET /api/kiln/compose/metrics/<UUID>}: its {@code metrics.json} (every step's and phase's duration, count
 * and bytes so far; the lists are empty before its first step ends).
 */
@RestController
class ComposeSbomController {

    static final MediaType SPDX_JSON = MediaType.parseMediaType("application/spdx+json");
    private final ComposeService composes;

    ComposeSbomController(ComposeService composes) {
        this.composes = composes;
    }

    @GetMapping("/api/kiln/compose/metrics/{uuid}")
    ResponseEntity<String> metrics(@PathVariable String uuid) {
        Compose c = ComposeUuids.require(composes, uuid);
        ResultsDir results = composes.results(c.id());
        String text = results.has(ResultsDir.METRICS) ? results.read(ResultsDir.METRICS) : null;
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON)
                .body(Progress.parse(text, c.id()).toPrettyString());
    }

    @GetMapping("/api/kiln/compose/sbom/{uuid}")
    ResponseEntity<byte[]> sbom(@PathVariable String uuid) throws IOException {
        Compose c = ComposeUuids.require(composes, uuid);
        Path sbom = composes.results(c.id()).file(ResultsDir.SBOM);
        if (!Files.isRegularFile(sbom)) {
            throw new WeldrException("BuildMissingFile", "Build " + c.id() + " has no SBOM (" + ResultsDir.SBOM
                    + "): it is written when the build has installed the image's packages");
        }
        return ResponseEntity.ok().contentType(SPDX_JSON)
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=" + c.id() + "-" + ResultsDir.SBOM)
                .body(Files.readAllBytes(sbom));
    }
}
