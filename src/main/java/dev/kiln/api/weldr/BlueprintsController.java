package dev.kiln.api.weldr;

import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintDiff;
import dev.kiln.blueprint.BlueprintException;
import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.blueprint.BlueprintStore;
import dev.kiln.blueprint.Customizations;
import dev.kiln.blueprint.Passwords;
import dev.kiln.debian.Pkg;
import dev.kiln.depsolve.BlueprintDepsolver;
import dev.kiln.depsolve.Dependencies;
import dev.kiln.depsolve.DepsolveException;
import dev.kiln.source.BlueprintKeys;
import dev.kiln.source.Distros;
import dev.kiln.source.SourceException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/v0|v1/blueprints/*}: list, info, changes, change, new, workspace, delete, undo, tag, diff, depsolve, freeze. */
@RestController
@RequestMapping("/api/{version:v[01]}/blueprints")
class BlueprintsController {

    private static final MediaType TEXT = MediaType.parseMediaType("text/plain;charset=UTF-8");
    private static final Map<String, Object> OK = Map.of("status", true);
    private final BlueprintStore store;
    private final BlueprintDepsolver depsolver;

    BlueprintsController(BlueprintStore store, BlueprintDepsolver depsolver) {
        this.store = store;
        this.depsolver = depsolver;
    }

    @GetMapping("/list")
    Map<String, Object> list(@RequestParam(required = false) String branch,
            @RequestParam(required = false) String offset, @RequestParam(required = false) String limit) {
        WeldrRequests.Page page = WeldrRequests.page(offset, limit);
        List<String> names = store.list(WeldrRequests.branch(branch));
        return page.body("blueprints", page.apply(names), names.size());
    }

    @GetMapping("/info/{names}")
    ResponseEntity<?> info(@PathVariable String names, @RequestParam(required = false) String branch,
            @RequestParam(required = false) String format) {
        String br = WeldrRequests.branch(branch);
        boolean toml = WeldrRequests.toml(format);
        List<Blueprint> blueprints = new ArrayList<>();
        List<Map<String, Object>> changes = new ArrayList<>();
        List<WeldrError> errors = new ArrayList<>();
        found(names, br, errors, "").forEach((name, info) -> { // "<name>: ", as lorax and osbuild-composer say
            blueprints.add(info.blueprint());
            changes.add(Map.of("name", name, "changed", info.changed()));
        });
        if (toml) {
            if (!errors.isEmpty()) {
                throw new WeldrException(errors.get(0).id(), errors.get(0).msg());
            }
            String text = String.join("\n", blueprints.stream().map(Blueprint::toToml).toList());
            return ResponseEntity.ok().contentType(TEXT).body(text);
        }
        Comparator<String> byName = String.CASE_INSENSITIVE_ORDER;
        blueprints.sort(Comparator.comparing(Blueprint::name, byName));
        changes.sort(Comparator.comparing(c -> (String) c.get("name"), byName));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("blueprints", blueprints.stream().map(Blueprint::data).toList());
        body.put("changes", changes);
        body.put("errors", errors);
        return ResponseEntity.ok(body);
    }

    @GetMapping("/changes/{names}")
    Map<String, Object> changes(@PathVariable String names, @RequestParam(required = false) String branch,
            @RequestParam(required = false) String offset, @RequestParam(required = false) String limit) {
        String br = WeldrRequests.branch(branch);
        WeldrRequests.Page page = WeldrRequests.page(offset, limit);
        List<Map<String, Object>> blueprints = new ArrayList<>();
        List<WeldrError> errors = new ArrayList<>();
        for (String name : WeldrRequests.names(names)) {
            List<BlueprintStore.Change> all = store.changes(br, name);
            if (all.isEmpty()) {
                errors.add(new WeldrError("UnknownBlueprint", name));
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", name);
            entry.put("changes", page.apply(all).stream().map(BlueprintsController::change).toList());
            entry.put("total", all.size());
            blueprints.add(entry);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("blueprints", blueprints);
        body.put("errors", errors);
        body.put("offset", page.offset());
        body.put("limit", page.limit());
        return body;
    }

    private static Map<String, Object> change(BlueprintStore.Change c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("commit", c.commit());
        m.put("message", c.message());
        m.put("revision", c.revision());
        m.put("timestamp", DateTimeFormatter.ISO_INSTANT.format(c.timestamp()));
        return m;
    }

    @GetMapping("/change/{name}/{commit}")
    ResponseEntity<?> change(@PathVariable String version, @PathVariable String name, @PathVariable String commit,
            @RequestParam(required = false) String branch, @RequestParam(required = false) String format) {
        WeldrRequests.requireV1(version);
        String br = WeldrRequests.branch(branch);
        boolean toml = WeldrRequests.toml(format);
        Blueprint blueprint = store.atCommit(br, BlueprintNames.require(name), commit);
        return toml ? ResponseEntity.ok().contentType(TEXT).body(blueprint.toToml())
                : ResponseEntity.ok(blueprint.data());
    }

    @PostMapping("/new")
    Map<String, Object> create(HttpServletRequest request, @RequestParam(required = false) String branch)
            throws IOException {
        String br = WeldrRequests.branch(branch);
        store.push(br, parse(request));
        return OK;
    }

    @PostMapping("/workspace")
    Map<String, Object> workspace(HttpServletRequest request, @RequestParam(required = false) String branch)
            throws IOException {
        String br = WeldrRequests.branch(branch);
        store.saveWorkspace(br, parse(request));
        return OK;
    }

    /**
     * The posted blueprint, its customizations checked against their grammar and its plain passwords hashed before
     * anything is stored.
     */
    private static Blueprint parse(HttpServletRequest request) throws IOException {
        WeldrRequests.Body body = WeldrRequests.body(request, "BlueprintsError", "Blueprint");
        Blueprint blueprint = body.toml() ? BlueprintParser.parseToml(body.text()) : BlueprintParser.parseJson(body.text());
        List<String> problems = new java.util.ArrayList<>(Customizations.problems(blueprint.customizations()));
        if (problems.isEmpty()) {
            problems.addAll(BlueprintKeys.problems(blueprint.customizations()));
        }
        if (!problems.isEmpty()) {
            throw new BlueprintException(BlueprintException.Kind.INVALID,
                    "Invalid customizations: " + String.join("; ", problems));
        }
        if (Distros.resolve(blueprint.distro()).isEmpty()) { // as osbuild-composer: only a distro it can build
            throw new BlueprintException(BlueprintException.Kind.INVALID, Distros.invalid(blueprint.distro()));
        }
        return Passwords.hashPlain(blueprint);
    }

    @DeleteMapping("/workspace/{name}")
    Map<String, Object> deleteWorkspace(@PathVariable String name, @RequestParam(required = false) String branch) {
        store.deleteWorkspace(WeldrRequests.branch(branch), BlueprintNames.require(name));
        return OK;
    }

    @DeleteMapping("/delete/{name}")
    Map<String, Object> delete(@PathVariable String name, @RequestParam(required = false) String branch) {
        store.delete(WeldrRequests.branch(branch), BlueprintNames.require(name));
        return OK;
    }

    @PostMapping("/undo/{name}/{commit}")
    Map<String, Object> undo(@PathVariable String name, @PathVariable String commit,
            @RequestParam(required = false) String branch) {
        String br = WeldrRequests.branch(branch);
        BlueprintNames.require(name);
        if (!commit.matches("[a-zA-Z0-9._-]+")) {
            throw new BlueprintException(BlueprintException.Kind.INVALID_NAME, "Invalid characters in API path");
        }
        store.undo(br, name, commit);
        return OK;
    }

    @PostMapping("/tag/{name}")
    Map<String, Object> tag(@PathVariable String name, @RequestParam(required = false) String branch) {
        store.tag(WeldrRequests.branch(branch), BlueprintNames.require(name));
        return OK;
    }

    @GetMapping("/diff/{name}/{from}/{to}")
    Map<String, Object> diff(@PathVariable String name, @PathVariable String from, @PathVariable String to,
            @RequestParam(required = false) String branch) {
        String br = WeldrRequests.branch(branch);
        BlueprintNames.require(name);
        for (String ref : List.of(from, to)) {
            if (!ref.matches("[a-zA-Z0-9]+")) {
                throw new BlueprintException(BlueprintException.Kind.INVALID_NAME, "Invalid characters in API path");
            }
        }
        if (store.committed(br, name).isEmpty() && store.workspace(br, name).isEmpty()) {
            throw new WeldrException("UnknownBlueprint", "Unknown blueprint name: " + name);
        }
        List<Map<String, Object>> diff = BlueprintDiff.diff(store.resolve(br, name, from), store.resolve(br, name, to));
        return Map.of("diff", diff);
    }

    /** Depsolves each blueprint (workspace copy preferred); per-name failures go to {@code errors}. */
    @GetMapping("/depsolve/{names}")
    Map<String, Object> depsolve(@PathVariable String names, @RequestParam(required = false) String branch,
            @RequestParam(required = false) String distro) {
        String asked = WeldrRequests.distro(distro);
        String br = WeldrRequests.branch(branch);
        List<Map<String, Object>> blueprints = new ArrayList<>();
        List<WeldrError> errors = new ArrayList<>();
        for (Map.Entry<String, BlueprintStore.Info> hit : found(names, br, errors, "blueprint not found").entrySet()) {
            String name = hit.getKey();
            Blueprint bp = hit.getValue().blueprint();
            try {
                List<Pkg> deps = depsolver.depsolve(bp, asked);
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("blueprint", bp.data());
                entry.put("dependencies", Dependencies.forApi(Dependencies.of(deps)));
                entry.put("modules", List.of());
                blueprints.add(entry);
            } catch (DepsolveException | SourceException e) {
                errors.add(new WeldrError("BlueprintsError", name + ": " + e.getMessage()));
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("blueprints", blueprints);
        body.put("errors", errors);
        return body;
    }

    /** Each blueprint with its package and module versions replaced by the exact ones depsolve chose. */
    @GetMapping("/freeze/{names}")
    ResponseEntity<?> freeze(@PathVariable String names, @RequestParam(required = false) String branch,
            @RequestParam(required = false) String format, @RequestParam(required = false) String distro) {
        String asked = WeldrRequests.distro(distro);
        String br = WeldrRequests.branch(branch);
        boolean toml = WeldrRequests.toml(format);
        List<Blueprint> frozen = new ArrayList<>();
        List<WeldrError> errors = new ArrayList<>();
        for (Map.Entry<String, BlueprintStore.Info> hit : found(names, br, errors, "blueprint not found").entrySet()) {
            String name = hit.getKey();
            try {
                Blueprint bp = hit.getValue().blueprint();
                frozen.add(BlueprintDepsolver.freeze(bp, depsolver.depsolve(bp, asked)));
            } catch (DepsolveException | SourceException e) {
                errors.add(new WeldrError("BlueprintsError", name + ": " + e.getMessage()));
            }
        }
        if (toml) {
            if (!errors.isEmpty()) {
                throw new WeldrException(errors.get(0).id(), errors.get(0).msg());
            }
            return ResponseEntity.ok().contentType(TEXT)
                    .body(String.join("\n", frozen.stream().map(Blueprint::toToml).toList()));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("blueprints", frozen.stream().map(b -> Map.of("blueprint", b.data())).toList());
        body.put("errors", errors);
        return ResponseEntity.ok(body);
    }


    /**
     * The named blueprints that exist (workspace copy preferred), in order; the others become errors
     * {@code "<name>: <detail>"}.
     */
    private Map<String, BlueprintStore.Info> found(String names, String branch, List<WeldrError> errors,
            String detail) {
        Map<String, BlueprintStore.Info> found = new LinkedHashMap<>();
        for (String name : WeldrRequests.names(names)) {
            Optional<BlueprintStore.Info> info = store.info(branch, name);
            if (info.isPresent()) {
                found.put(name, info.get());
            } else {
                errors.add(new WeldrError("UnknownBlueprint", name + ": " + detail));
            }
        }
        return found;
    }
}
