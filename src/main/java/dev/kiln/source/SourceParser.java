package dev.kiln.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.blueprint.BlueprintNames;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlTable;

/** Reads a source object from TOML or JSON (spec §4), checking every field before anything is stored. */
public final class SourceParser {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** What a bad source document is, for the API's error ids. */
    public static final class Invalid extends RuntimeException {
        private final boolean missingId;

        Invalid(String message, boolean missingId) {
            super(message);
            this.missingId = missingId;
        }

        public boolean missingId() {
            return missingId;
        }
    }

    private SourceParser() {
    }

    public static Source parseToml(String text, boolean v1) {
        TomlParseResult result = Toml.parse(text);
        if (result.hasErrors()) {
            throw new Invalid("TOML parse error: " + result.errors().get(0), false);
        }
        Map<String, Object> doc = toMap(result);
        // osbuild accepts the source wrapped in a table named by its id: [my-id] ...
        if (!doc.containsKey("url") && !doc.containsKey("type") && doc.size() >= 1) {
            Map.Entry<String, Object> first = new TreeMap<>(doc).firstEntry();
            if (first.getValue() instanceof Map<?, ?> inner) {
                @SuppressWarnings("unchecked")
                Map<String, Object> table = new java.util.LinkedHashMap<>((Map<String, Object>) inner);
                table.putIfAbsent("id", first.getKey());
                doc = table;
            }
        }
        return fromMap(doc, v1);
    }

    @SuppressWarnings("unchecked")
    public static Source parseJson(String text, boolean v1) {
        try {
            Object value = JSON.readValue(text, Object.class);
            if (!(value instanceof Map<?, ?>)) {
                throw new Invalid("a source must be a JSON object", false);
            }
            return fromMap((Map<String, Object>) value, v1);
        } catch (JsonProcessingException e) {
            throw new Invalid("JSON parse error: " + e.getOriginalMessage(), false);
        }
    }

    static Source fromMap(Map<String, Object> doc, boolean v1) {
        String name = string(doc, "name");
        String id = v1 ? string(doc, "id") : name;
        if (id == null || id.isBlank()) {
            throw new Invalid("'id' field is missing from API v1 request.", true);
        }
        if (!BlueprintNames.isValid(id)) {
            throw new Invalid("Invalid characters in source id: " + id, false);
        }
        String type = string(doc, "type");
        if (type == null || !Source.TYPES.contains(type)) {
            throw new Invalid("'type' must be one of " + Source.TYPES, false);
        }
        String url = string(doc, "url");
        if (url == null || url.isBlank()) {
            throw new Invalid("'url' is missing", false);
        }
        try {
            URI uri = URI.create(url.strip());
            if (!List.of("http", "https", "file").contains(String.valueOf(uri.getScheme()))) {
                throw new Invalid("'url' must be an http, https or file URL", false);
            }
        } catch (IllegalArgumentException e) {
            throw new Invalid("'url' is not a valid URL: " + e.getMessage(), false);
        }
        List<String> suites = strings(doc, "suites");
        List<String> components = strings(doc, "components");
        if (Source.DEB.equals(type)) {
            if (suites.isEmpty() || components.isEmpty()) {
                throw new Invalid("a deb source needs 'suites' and 'components'", false);
            }
            for (String s : concat(suites, components)) {
                if (!s.matches("[A-Za-z0-9._/-]+") || s.contains("..")) {
                    throw new Invalid("invalid suite or component: " + s, false);
                }
            }
        }
        List<String> keyUrls = new ArrayList<>(strings(doc, "gpgkey_urls"));
        for (String k : strings(doc, "gpgkeys")) { // osbuild's name; inline keys are not kept
            if (!k.contains("BEGIN PGP")) {
                keyUrls.add(k);
            }
        }
        return new Source(id, name == null ? id : name, type, url.strip(), suites, components,
                strings(doc, "architectures"), bool(doc, "check_gpg", true), bool(doc, "check_ssl", true),
                strings(doc, "gpgkey_paths"), keyUrls, string(doc, "proxy"), false);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static String string(Map<String, Object> doc, String key) {
        Object v = doc.get(key);
        if (v != null && !(v instanceof String)) {
            throw new Invalid("'" + key + "' must be a string", false);
        }
        return (String) v;
    }

    private static boolean bool(Map<String, Object> doc, String key, boolean dflt) {
        Object v = doc.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Boolean b)) {
            throw new Invalid("'" + key + "' must be true or false", false);
        }
        return b;
    }

    private static List<String> strings(Map<String, Object> doc, String key) {
        Object v = doc.get(key);
        if (v == null) {
            return List.of();
        }
        if (v instanceof String s) {
            return s.isBlank() ? List.of() : List.of(s.strip().split("[\\s,]+"));
        }
        if (v instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
            return list.stream().map(String.class::cast).toList();
        }
        throw new Invalid("'" + key + "' must be a list of strings", false);
    }

    private static Map<String, Object> toMap(TomlTable table) {
        Map<String, Object> map = new java.util.LinkedHashMap<>();
        for (String key : table.keySet()) {
            Object v = table.get(List.of(key));
            if (v instanceof TomlTable t) {
                v = toMap(t);
            } else if (v instanceof TomlArray a) {
                v = a.toList();
            }
            map.put(key, v);
        }
        return map;
    }
}
