package dev.kiln.depsolve;

import dev.kiln.blueprint.TomlWriter;
import dev.kiln.debian.Pkg;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlTable;

/**
 * {@code deps.toml}: the full package set as lorax wrote it ({@code name, epoch, version, release, arch}), plus
 * what the build needs to fetch and check each package without another lookup.
 */
public final class DepsFile {

    /**
     * A line of the plain form {@link #write} gives: a bare key, then a string without escapes or a decimal integer
     * of at most 18 digits (a long, as tomlj reads it).
     */
    private static final Pattern PLAIN_LINE = Pattern.compile(
            "([A-Za-z0-9_-]+) = (?:\"([^\"\\\\\\x00-\\x1f\\x7f]*)\"|(0|-?[1-9][0-9]{0,17}))");

    private DepsFile() {
    }

    public static String write(List<Pkg> packages) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("packages", Dependencies.of(packages));
        return TomlWriter.write(doc);
    }

    /**
     * The entries, each a map with the keys above. Read by a line reader when the text has the plain form
     * {@link #write} gives (tomlj's parser took two thirds of the freeze and kickstart steps), else by tomlj: the
     * same maps either way ({@code DepsFileTest}).
     */
    public static List<Map<String, Object>> read(String text) {
        List<Map<String, Object>> plain = readPlain(text);
        return plain != null ? plain : readToml(text);
    }

    /** The entries of the plain form; null for any other text (comments, escapes, other tables, a repeated key). */
    static List<Map<String, Object>> readPlain(String text) {
        List<Map<String, Object>> out = new ArrayList<>();
        Map<String, Object> current = null;
        Matcher m = PLAIN_LINE.matcher("");
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.equals("[[packages]]")) {
                current = new LinkedHashMap<>();
                out.add(current);
                continue;
            }
            if (current == null || !m.reset(line).matches()) {
                return null;
            }
            Object value = m.group(2) != null ? m.group(2) : (Object) Long.parseLong(m.group(3));
            if (current.putIfAbsent(m.group(1), value) != null) {
                return null;
            }
        }
        return out;
    }

    static List<Map<String, Object>> readToml(String text) {
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
