package dev.kiln.depsolve;

import dev.kiln.debian.DebVersion;
import dev.kiln.debian.Pkg;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Packages as the Weldr API lists dependencies: name, numeric epoch, version, release, arch, and where to get them. */
public final class Dependencies {

    /** The release the API shows for a version without a Debian revision. */
    public static final String NO_REVISION = "0";

    private Dependencies() {
    }

    public static Map<String, Object> of(Pkg p) {
        DebVersion v = p.debVersion();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", p.name);
        m.put("epoch", v.epoch());
        m.put("version", v.upstream());
        m.put("release", v.revision());
        m.put("arch", p.arch);
        m.put("size", p.size);
        m.put("installed_size", p.installedSize);
        m.put("checksum", "sha256:" + p.sha256);
        m.put("remote_location", p.url());
        m.put("source_id", p.sourceId);
        return m;
    }

    /**
     * As the Weldr API shows packages: a version without a Debian revision has the release {@code "0"}, which Debian
     * policy (§5.6.12) says it is equal to, because composer-cli prints every package as
     * {@code name-version-release.arch} (an empty release would leave {@code adduser-3.134-.all}). The frozen
     * set in {@code deps.toml} and the versions in frozen blueprints keep the version as Debian writes it.
     */
    public static List<Map<String, Object>> forApi(List<Map<String, Object>> deps) {
        return deps.stream().map(Dependencies::forApi).toList();
    }

    public static Map<String, Object> forApi(Map<String, Object> dep) {
        if (!"".equals(dep.get("release"))) {
            return dep;
        }
        Map<String, Object> m = new LinkedHashMap<>(dep);
        m.put("release", NO_REVISION);
        return m;
    }

    /** Sorted case-insensitively by name, as the API wants them. */
    public static List<Map<String, Object>> of(List<Pkg> packages) {
        return packages.stream().sorted((a, b) -> a.name.compareToIgnoreCase(b.name)).map(Dependencies::of).toList();
    }
}
