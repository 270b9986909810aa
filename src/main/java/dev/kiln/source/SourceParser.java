package dev.kiln.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.depsolve.Repositories;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

    /** A source submitted through the API: every field checked, only the types Kiln can read. */
    public static Source parseToml(String text, boolean v1) {
        return parseToml(text, v1, false);
    }

    /**
     * A source read back from the store ({@code stored}): the Weldr types Kiln cannot read ({@code yum-*}, which an
     * earlier version stored) are kept so that they can be listed and deleted; the package index skips them.
     */
    public static Source parseToml(String text, boolean v1, boolean stored) {
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
                Map<String, Object> table = new LinkedHashMap<>((Map<String, Object>) inner);
                table.putIfAbsent("id", first.getKey());
                doc = table;
            }
        }
        return fromMap(doc, v1, stored);
    }

    @SuppressWarnings("unchecked")
    public static Source parseJson(String text, boolean v1) {
        try {
            Object value = JSON.readValue(text, Object.class);
            if (!(value instanceof Map<?, ?>)) {
                throw new Invalid("a source must be a JSON object", false);
            }
            return fromMap((Map<String, Object>) value, v1, false);
        } catch (JsonProcessingException e) {
            throw new Invalid("JSON parse error: " + e.getOriginalMessage(), false);
        }
    }

    static Source fromMap(Map<String, Object> doc, boolean v1, boolean stored) {
        String name = string(doc, "name");
        String id = v1 ? string(doc, "id") : name;
        if (id == null || id.isBlank()) {
            throw new Invalid("'id' field is missing from API v1 request.", true);
        }
        if (!BlueprintNames.isValid(id)) {
            throw new Invalid("Invalid characters in source id: " + id, false);
        }
        if (name != null && (name.length() > 256 || name.chars().anyMatch(Character::isISOControl))) {
            throw new Invalid("'name' must be at most 256 characters without control characters", false);
        }
        String type = string(doc, "type");
        if (type == null || !Source.TYPES.contains(type)) {
            throw new Invalid("'type' must be one of " + Source.TYPES, false);
        }
        if (!stored && !Source.DEB.equals(type)) {
            throw new Invalid("source type '" + type + "' is not supported: Kiln reads Debian repositories only "
                    + "(type = \"deb\")", false);
        }
        String url = string(doc, "url");
        if (url == null || url.isBlank()) {
            throw new Invalid("'url' is missing", false);
        }
        String urlProblem = httpUrlProblem(url.strip());
        if (urlProblem != null) {
            throw new Invalid("'url' " + urlProblem, false);
        }
        String proxy = string(doc, "proxy");
        if (proxy != null && !proxy.isBlank() && httpUrlProblem(proxy.strip()) != null) {
            throw new Invalid("'proxy' " + httpUrlProblem(proxy.strip()), false);
        }
        List<String> distros = strings(doc, "distros");
        if (!stored) { // osbuild-composer's 'distros': the source is for these distributions only; each one known
            List<String> unknown = distros.stream().filter(d -> Distros.resolve(d).isEmpty()
                    || d.isBlank()).toList();
            if (!unknown.isEmpty()) {
                throw new Invalid("Invalid distributions: " + String.join(", ", unknown).replaceAll("\\p{Cntrl}", "?")
                        + " (Kiln builds " + String.join(", ", Distros.names()) + ")", false);
            }
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
        for (String k : keyUrls) {
            if (k.startsWith("file:")) {
                keyPathProblem(k.substring("file:".length()).replaceFirst("^//(localhost)?", ""), "gpgkey_urls");
            } else if (httpUrlProblem(k) != null) {
                throw new Invalid("'gpgkey_urls' entry " + httpUrlProblem(k), false);
            }
        }
        List<String> keyPaths = strings(doc, "gpgkey_paths");
        keyPaths.forEach(k -> keyPathProblem(k, "gpgkey_paths"));
        return new Source(id, name == null ? id : name, type, url.strip(), suites, components,
                strings(doc, "architectures"), bool(doc, "check_gpg", true), bool(doc, "check_ssl", true),
                keyPaths, keyUrls, proxy, false, distros.stream().distinct().sorted().toList());
    }

    /**
     * Why {@code url} is not an http(s) URL with a host and a valid port; null when it is. Repositories are read
     * over HTTP only: a {@code file} URL would let an API user point the service (root) at any host directory.
     */
    static String httpUrlProblem(String url) {
        if (url.length() > 2048 || url.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) {
            return "must be a URL without spaces or control characters, at most 2048 characters";
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return "is not a valid URL: " + e.getReason();
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            return "must be an http or https URL: " + url;
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            return "has no host (or a host name the URL grammar does not allow): " + url;
        }
        if (uri.getPort() != -1 && (uri.getPort() < 1 || uri.getPort() > 65535)) {
            return "has a port out of range 1-65535: " + url;
        }
        if (uri.getRawUserInfo() != null) {
            return "may not hold a user name or password: " + url;
        }
        return null;
    }

    /** A keyring path: absolute, plain, no {@code ..} element (it names a file the service reads as a keyring). */
    private static void keyPathProblem(String path, String field) {
        if (!path.matches("(/(?!\\.\\.?(/|$))[A-Za-z0-9._+@-]{1,255}){1,32}")) {
            throw new Invalid("'" + field + "' entry must be an absolute path of plain names (no '..', spaces or "
                    + "control characters): " + path.replaceAll("\\p{Cntrl}", "?"), false);
        }
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
        Map<String, Object> map = new LinkedHashMap<>();
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
