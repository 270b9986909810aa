package dev.kiln.depsolve;

import dev.kiln.debian.DebVersion;
import dev.kiln.debian.Pkg;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Packages as the Weldr API lists dependencies: name, numeric epoch, version, release, arch, and where to get them. */
public final class Dependencies {

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

    /** Sorted case-insensitively by name, as the API wants them. */
    public static List<Map<String, Object>> of(List<Pkg> packages) {
        return packages.stream().sorted((a, b) -> a.name.compareToIgnoreCase(b.name)).map(Dependencies::of).toList();
    }
}
