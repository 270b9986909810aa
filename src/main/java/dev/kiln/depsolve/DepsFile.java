package dev.kiln.depsolve;

import dev.kiln.blueprint.TomlWriter;
import dev.kiln.debian.Pkg;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlTable;

/**
 * {@code deps.toml}: the full package set as lorax wrote it ({@code name, epoch, version, release, arch}), plus
 * what the build needs to fetch and check each package without another lookup.
 */
public final class DepsFile {

    private DepsFile() {
    }

    public static String write(List<Pkg> packages) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("packages", Dependencies.of(packages));
        return TomlWriter.write(doc);
    }

    /** The entries, each a map with the keys above. */
    public static List<Map<String, Object>> read(String text) {
        TomlParseResult toml = Toml.parse(text);
        if (toml.hasErrors()) {
            throw new IllegalStateException("deps.toml is damaged: " + toml.errors().get(0));
        }
        List<Map<String, Object>> out = new ArrayList<>();
        TomlArray packages = toml.getArray("packages");
        for (int i = 0; packages != null && i < packages.size(); i++) {
            TomlTable t = packages.getTable(i);
            Map<String, Object> m = new LinkedHashMap<>();
            for (String k : t.keySet()) {
                m.put(k, t.get(List.of(k)));
            }
            out.add(m);
        }
        return out;
    }

    /** {@code [epoch:]version[-release].arch}, the frozen form of an entry. */
    public static String frozen(Map<String, Object> dep) {
        long epoch = ((Number) dep.get("epoch")).longValue();
        String release = (String) dep.get("release");
        return (epoch != 0 ? epoch + ":" : "") + dep.get("version") + (release.isEmpty() ? "" : "-" + release) + "."
                + dep.get("arch");
    }

    /** {@code name=[epoch:]version[-release]}, the pin the build installs. */
    public static String pin(Map<String, Object> dep) {
        long epoch = ((Number) dep.get("epoch")).longValue();
        String release = (String) dep.get("release");
        return dep.get("name") + "=" + (epoch != 0 ? epoch + ":" : "") + dep.get("version")
                + (release.isEmpty() ? "" : "-" + release);
    }
}
