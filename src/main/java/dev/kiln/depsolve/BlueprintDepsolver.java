package dev.kiln.depsolve;

import dev.kiln.debian.Pkg;
import dev.kiln.blueprint.Blueprint;
import dev.kiln.source.Distros;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * Resolves a blueprint: its packages and modules (with their version globs) plus the base every bootable root
 * holds (Essential and Priority: required). Freezing is the only place names become exact versions.
 */
@Component
public class BlueprintDepsolver {

    private final Repositories repositories;

    public BlueprintDepsolver(Repositories repositories) {
        this.repositories = repositories;
    }

    public List<Pkg> depsolve(Blueprint blueprint) throws DepsolveException {
        return depsolve(blueprint, List.of());
    }

    /**
     * The blueprint's set for the API's depsolve and freeze: from its own distribution's sources, else from those of
     * {@code distro} (the request's {@code ?distro=}, already checked; null for the host's).
     */
    public List<Pkg> depsolve(Blueprint blueprint, String distro) throws DepsolveException {
        String name = blueprint.distro() != null && !blueprint.distro().isBlank() ? blueprint.distro() : distro;
        return solve(blueprint, List.of(), name);
    }

    /**
     * The blueprint's set with {@code extra} packages (an output type's template packages) added, from the sources
     * of the blueprint's distribution (the host's when it names none).
     */
    public List<Pkg> depsolve(Blueprint blueprint, List<String> extra) throws DepsolveException {
        return solve(blueprint, extra, blueprint.distro());
    }

    private List<Pkg> solve(Blueprint blueprint, List<String> extra, String requested) throws DepsolveException {
        if (!blueprint.groups().isEmpty()) {
            throw new DepsolveException("package groups are not supported for Debian sources (group "
                    + blueprint.groups().get(0).get("name") + ")");
        }
        List<Depsolver.Request> requests = new ArrayList<>();
        for (Map<String, Object> item : concat(blueprint.modules(), blueprint.packages())) {
            requests.add(new Depsolver.Request((String) item.get("name"), (String) item.get("version")));
        }
        extra.forEach(name -> requests.add(new Depsolver.Request(name, null)));
        String distro = Distros.resolve(requested).orElseThrow(() -> new DepsolveException(Distros.invalid(requested)));
        return repositories.depsolver(distro).solve(requests, true);
    }

    /** The blueprint with every package and module version replaced by the exact one chosen. */
    public static Blueprint freeze(Blueprint blueprint, List<Pkg> solution) {
        Map<String, String> byName = new HashMap<>();
        solution.forEach(p -> byName.put(p.name, p.frozen()));
        return freeze(blueprint, byName);
    }

    /** The same from a name → frozen version ({@code [epoch:]version-revision.arch}) map. */
    public static Blueprint freeze(Blueprint blueprint, Map<String, String> byName) {
        Map<String, Object> data = new LinkedHashMap<>(blueprint.data());
        data.put("modules", frozen(blueprint.modules(), byName));
        data.put("packages", frozen(blueprint.packages(), byName));
        return new Blueprint(data);
    }

    private static List<Map<String, Object>> frozen(List<Map<String, Object>> items, Map<String, String> byName) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> item : items) {
            Map<String, Object> copy = new LinkedHashMap<>(item);
            String version = byName.get((String) item.get("name"));
            if (version != null) {
                copy.put("version", version);
            }
            out.add(copy);
        }
        return out;
    }

    private static List<Map<String, Object>> concat(List<Map<String, Object>> a, List<Map<String, Object>> b) {
        List<Map<String, Object>> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
