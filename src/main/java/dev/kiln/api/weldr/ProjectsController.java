package dev.kiln.api.weldr;

import dev.kiln.debian.DebVersion;
import dev.kiln.debian.PackagesParser;
import dev.kiln.debian.Pkg;
import dev.kiln.depsolve.Dependencies;
import dev.kiln.depsolve.DepsolveException;
import dev.kiln.depsolve.Depsolver;
import dev.kiln.depsolve.PackageIndex;
import dev.kiln.depsolve.Repositories;
import dev.kiln.source.SourceException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/v0|v1/projects/list|info|depsolve} and {@code /modules/list|info}: the packages of the enabled
 * sources. As in lorax, "modules" are the same packages with {@code group_type = rpm}.
 */
@RestController
@RequestMapping("/api/{version:v[01]}")
class ProjectsController {

    private static final Pattern GLOB_SAFE = Pattern.compile("[a-zA-Z0-9_.+*?-]+");
    private final Repositories repositories;

    ProjectsController(Repositories repositories) {
        this.repositories = repositories;
    }

    private PackageIndex index(String errorId, String distro) {
        try {
            return repositories.depsolver(distro).index();
        } catch (SourceException e) {
            throw new WeldrException(errorId, e.getMessage());
        }
    }

    @GetMapping("/projects/list")
    Map<String, Object> projects(@RequestParam(required = false) String offset,
            @RequestParam(required = false) String limit, @RequestParam(required = false) String distro) {
        String d = WeldrRequests.distro(distro);
        WeldrRequests.Page page = WeldrRequests.page(offset, limit);
        PackageIndex index = index("ProjectsError", d);
        List<String> names = index.names();
        List<Map<String, Object>> items = page.apply(names).stream().map(n -> project(index, n, false)).toList();
        return page.body("projects", items, names.size());
    }

    @GetMapping("/projects/info/{names}")
    Map<String, Object> projectInfo(@PathVariable String names, @RequestParam(required = false) String distro) {
        String d = WeldrRequests.distro(distro);
        PackageIndex index = index("ProjectsError", d);
        List<String> matched = match(index, names, "UnknownProject", "one of the requested projects does not exist: ");
        return Map.of("projects", matched.stream().map(n -> project(index, n, true)).toList());
    }

    @GetMapping("/projects/depsolve/{names}")
    Map<String, Object> projectDepsolve(@PathVariable String names, @RequestParam(required = false) String distro) {
        String d = WeldrRequests.distro(distro);
        List<String> list = WeldrRequests.names(names);
        Depsolver solver = solver("ProjectsError", d);
        try {
            List<Pkg> deps = solver.solve(list.stream().map(n -> new Depsolver.Request(n, null)).toList(), false);
            if (deps.isEmpty()) {
                throw new WeldrException("UnknownProject", "No packages have been found.");
            }
            return Map.of("projects", Dependencies.forApi(Dependencies.of(deps)));
        } catch (DepsolveException e) {
            throw new WeldrException("ProjectsError", e.getMessage());
        }
    }

    @GetMapping({"/modules/list", "/modules/list/{names}"})
    Map<String, Object> modules(@PathVariable(required = false) String names,
            @RequestParam(required = false) String offset, @RequestParam(required = false) String limit,
            @RequestParam(required = false) String distro) {
        String d = WeldrRequests.distro(distro);
        WeldrRequests.Page page = WeldrRequests.page(offset, limit);
        PackageIndex index = index("ModulesError", d);
        List<String> all = names == null ? index.names()
                : match(index, names, "UnknownModule", "one of the requested modules does not exist: ");
        List<Map<String, Object>> items = page.apply(all).stream().map(ProjectsController::module).toList();
        return page.body("modules", items, all.size());
    }

    @GetMapping("/modules/info/{names}")
    Map<String, Object> moduleInfo(@PathVariable String names, @RequestParam(required = false) String distro) {
        String d = WeldrRequests.distro(distro);
        PackageIndex index = index("ModulesError", d);
        List<String> matched = match(index, names, "UnknownModule", "one of the requested modules does not exist: ");
        Depsolver solver = solver("ModulesError", d);
        List<Map<String, Object>> modules = new ArrayList<>();
        for (String name : matched) {
            Map<String, Object> m = project(index, name, true);
            try {
                m.put("dependencies", Dependencies.forApi(Dependencies.of(solver.solve(List.of(new Depsolver.Request(name, null)),
                        false))));
            } catch (DepsolveException e) {
                throw new WeldrException("ModulesError", e.getMessage());
            }
            modules.add(m);
        }
        return Map.of("modules", modules);
    }

    private Depsolver solver(String errorId, String distro) {
        try {
            return repositories.depsolver(distro);
        } catch (SourceException e) {
            throw new WeldrException(errorId, e.getMessage());
        }
    }

    /** Names (globs allowed) that exist; when none does, the given error. */
    private static List<String> match(PackageIndex index, String names, String errorId, String message) {
        Set<String> out = new LinkedHashSet<>();
        List<String> asked = Arrays.stream(names.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        for (String n : asked) {
            if (!GLOB_SAFE.matcher(n).matches()) {
                throw new WeldrException("InvalidChars", "Invalid characters in API path");
            }
            if (n.contains("*") || n.contains("?")) {
                Pattern p = Pattern.compile(n.replace(".", "\\.").replace("+", "\\+").replace("*", ".*").replace("?", "."));
                index.names().stream().filter(x -> p.matcher(x).matches()).forEach(out::add);
            } else if (!index.versions(n).isEmpty()) {
                out.add(n);
            }
        }
        if (out.isEmpty()) {
            throw new WeldrException(errorId, message + String.join(", ", asked));
        }
        return new ArrayList<>(out);
    }

    private static Map<String, Object> module(String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("group_type", "rpm");
        return m;
    }

    private static Map<String, Object> project(PackageIndex index, String name, boolean full) {
        List<Pkg> versions = index.versions(name);
        Pkg newest = versions.get(0);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("summary", newest.summary == null ? "" : newest.summary);
        m.put("description", full ? description(newest) : (newest.summary == null ? "" : newest.summary));
        m.put("homepage", newest.homepage == null ? "" : newest.homepage);
        m.put("upstream_vcs", "UPSTREAM_VCS");
        List<Map<String, Object>> builds = new ArrayList<>();
        for (Pkg p : versions) {
            DebVersion v = p.debVersion();
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("arch", p.arch);
            b.put("build_time", "");
            b.put("epoch", v.epoch());
            b.put("release", v.revision().isEmpty() ? Dependencies.NO_REVISION : v.revision());
            b.put("changelog", "CHANGELOG_NEEDED");
            b.put("build_config_ref", "BUILD_CONFIG_REF");
            b.put("build_env_ref", "BUILD_ENV_REF");
            b.put("metadata", Map.of("source_id", p.sourceId));
            b.put("source", Map.of("license", "", "version", v.upstream(), "source_ref", "SOURCE_REF",
                    "metadata", Map.of()));
            builds.add(b);
        }
        m.put("builds", builds);
        return m;
    }

    /** The long description, read back from the cached index (Debian's format: summary line, then the text). */
    private static String description(Pkg p) {
        try {
            String d = PackagesParser.stanza(p).getOrDefault("Description", p.summary == null ? "" : p.summary);
            int nl = d.indexOf('\n');
            String body = nl < 0 ? d : d.substring(nl + 1);
            return body.lines().map(l -> l.equals(".") ? "" : l).reduce((a, b) -> a + "\n" + b).orElse("").strip();
        } catch (IOException e) {
            return p.summary == null ? "" : p.summary;
        }
    }
}
