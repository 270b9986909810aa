package dev.kiln.blueprint;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated blueprint. It keeps the whole document (so keys written for osbuild survive push → show) with
 * {@code name}, {@code description}, {@code modules}, {@code packages} and {@code groups} always present and the
 * lists sorted by name, as lorax stored them.
 *
 * @param data the normalized document: maps, lists, strings, longs, doubles, booleans and TOML date-times
 */
public record Blueprint(Map<String, Object> data) {

    public Blueprint {
        data = Collections.unmodifiableMap(new LinkedHashMap<>(data));
    }

    public String name() {
        return (String) data.get("name");
    }

    public String description() {
        return (String) data.get("description");
    }

    /** The semantic version, or null when the document has none (the store then assigns one). */
    public String version() {
        return (String) data.get("version");
    }

    /** The distribution it is for ({@code distro = "debian-12"}), or null for the host's; a non-string as text. */
    public String distro() {
        Object d = data.get("distro");
        return d == null ? null : String.valueOf(d);
    }

    public List<Map<String, Object>> packages() {
        return items("packages");
    }

    public List<Map<String, Object>> modules() {
        return items("modules");
    }

    public List<Map<String, Object>> groups() {
        return items("groups");
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> customizations() {
        Object value = data.get("customizations");
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> items(String key) {
        return (List<Map<String, Object>>) data.get(key);
    }

    public Blueprint withVersion(String version) {
        Map<String, Object> copy = new LinkedHashMap<>();
        copy.put("name", name());
        copy.put("description", description());
        copy.put("version", version);
        data.forEach(copy::putIfAbsent);
        return new Blueprint(copy);
    }

    public String toToml() {
        return TomlWriter.write(data);
    }
}
