package dev.kiln.depsolve;

import dev.kiln.blueprint.Blueprint;
import dev.kiln.source.Repositories;
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
        if (!blueprint.groups().isEmpty()) {
            throw new DepsolveException("package groups are not supported for Debian sources (group "
                    + blueprint.groups().get(0).get("name") + ")");
        }
        List<Depsolver.Request> requests = new ArrayList<>();
        for (Map<String, Object> item : concat(blueprint.modules(), blueprint.packages())) {
            requests.add(new Depsolver.Request((String) item.get("name"), (String) item.get("version")));
        }
        return repositories.depsolver().solve(requests, true);
    }

    /** The blueprint with every package and module version replaced by the exact one chosen. */
    public static Blueprint freeze(Blueprint blueprint, List<Pkg> solution) {
        Map<String, Pkg> byName = new HashMap<>();
        solution.forEach(p -> byName.put(p.name, p));
        Map<String, Object> data = new LinkedHashMap<>(blueprint.data());
        data.put("modules", frozen(blueprint.modules(), byName));
        data.put("packages", frozen(blueprint.packages(), byName));
        return new Blueprint(data);
    }

    private static List<Map<String, Object>> frozen(List<Map<String, Object>> items, Map<String, Pkg> byName) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> item : items) {
            Map<String, Object> copy = new LinkedHashMap<>(item);
            Pkg p = byName.get((String) item.get("name"));
            if (p != null) {
                copy.put("version", p.frozen());
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
