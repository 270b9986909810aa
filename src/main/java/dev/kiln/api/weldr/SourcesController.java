package dev.kiln.api.weldr;

import dev.kiln.blueprint.TomlWriter;
import dev.kiln.depsolve.Repositories;
import dev.kiln.source.Source;
import dev.kiln.source.SourceException;
import dev.kiln.source.SourceParser;
import dev.kiln.source.SourceStore;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/v0|v1/projects/source/*}: list, info, new, delete. v0 uses {@code name} as the id (spec §1.14). */
@RestController
@RequestMapping("/api/{version:v[01]}/projects/source")
class SourcesController {

    private static final MediaType TEXT = MediaType.parseMediaType("text/plain;charset=UTF-8");
    private final SourceStore sources;
    private final Repositories repositories;
    private final boolean allowUnsigned;

    SourcesController(SourceStore sources, Repositories repositories,
            @Value("${kiln.sources.allow-unsigned:false}") boolean allowUnsigned) {
        this.sources = sources;
        this.repositories = repositories;
        this.allowUnsigned = allowUnsigned;
    }

    @GetMapping("/list")
    Map<String, Object> list() {
        return Map.of("sources", sources.all().stream().map(Source::id).sorted().toList());
    }

    @GetMapping("/info/{ids}")
    ResponseEntity<?> info(@PathVariable String version, @PathVariable String ids,
            @RequestParam(required = false) String format) {
        boolean toml = WeldrRequests.toml(format);
        List<Source> found = new ArrayList<>();
        List<WeldrError> errors = new ArrayList<>();
        if (ids.strip().equals("*")) {
            found.addAll(sources.all());
        } else {
            for (String id : WeldrRequests.names(ids)) {
                Optional<Source> s = sources.get(id);
                if (s.isPresent()) {
                    found.add(s.get());
                } else {
                    errors.add(new WeldrError("UnknownSource", id + " is not a valid source"));
                }
            }
        }
        if (toml) {
            if (!errors.isEmpty()) {
                throw new WeldrException(errors.get(0).id(), errors.get(0).msg());
            }
            Map<String, Object> doc = new LinkedHashMap<>();
            found.forEach(s -> doc.put(s.id(), api(s, version)));
            return ResponseEntity.ok().contentType(TEXT).body(TomlWriter.write(doc));
        }
        Map<String, Object> byId = new LinkedHashMap<>();
        found.forEach(s -> byId.put(s.id(), api(s, version)));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("sources", byId);
        body.put("errors", errors);
        return ResponseEntity.ok(body);
    }

    private static Map<String, Object> api(Source s, String version) {
        Map<String, Object> m = s.toMap();
        if (version.equals("v0")) {
            m.remove("id");
            m.put("name", s.id());
        }
        return m;
    }

    /** Adds or replaces a user source; a {@code deb} source's metadata is fetched and checked first, as lorax did. */
    @PostMapping("/new")
    Map<String, Object> create(@PathVariable String version, HttpServletRequest request) throws IOException {
        WeldrRequests.Body body = WeldrRequests.body(request, "ProjectsError", "Source");
        boolean v1 = version.equals("v1");
        Source source;
        try {
            source = body.toml() ? SourceParser.parseToml(body.text(), v1) : SourceParser.parseJson(body.text(), v1);
        } catch (SourceParser.Invalid e) {
            throw new WeldrException(e.missingId() ? "UnknownSource" : "ProjectsError", e.getMessage());
        }
        if (sources.isSystem(source.id())) {
            throw new WeldrException("SystemSource", source.id() + " is a system source, it cannot be changed.");
        }
        if (!source.checkGpg() && !allowUnsigned) {
            // an unsigned repository's packages, and so their maintainer scripts, could come from anyone on the path
            throw new WeldrException("ProjectsError", "check_gpg = false is not allowed: this service accepts only "
                    + "signed sources (kiln.sources.allow-unsigned=false); give the repository's key in gpgkey_paths "
                    + "or gpgkey_urls");
        }
        if (source.isDeb()) {
            try {
                repositories.probe(source);
            } catch (SourceException e) {
                throw new WeldrException("ProjectsError", e.getMessage());
            }
        }
        sources.save(source);
        return Map.of("status", true);
    }

    @DeleteMapping("/delete/{id}")
    Map<String, Object> delete(@PathVariable String id) {
        WeldrRequests.names(id);
        if (sources.isSystem(id)) {
            throw new WeldrException("SystemSource", id + " is a system source, it cannot be deleted.");
        }
        if (!sources.delete(id)) {
            throw new WeldrException("UnknownSource", "source " + id + " not found");
        }
        return Map.of("status", true);
    }
}
