package dev.kiln.blueprint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlTable;

/**
 * Reads a blueprint from TOML or JSON and checks it as lorax did: every schema error is collected into one
 * message; a bad name is reported apart (it is an InvalidChars error, not a schema error).
 */
public final class BlueprintParser {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Keys this class places itself; any other key is kept as it came. */
    private static final List<String> KNOWN_KEYS = List.of(
            "name", "description", "version", "modules", "packages", "groups", "customizations", "repos");
    /** Keys whose wrong case lorax flagged ("Name should be name"). */
    private static final List<String> CASED_KEYS = List.of(
            "name", "description", "version", "modules", "packages", "groups", "customizations", "repos", "distro");
    private static final Set<String> NON_EMPTY_TABLES = Set.of("timezone", "locale", "firewall", "services");
    static final Comparator<Map<String, Object>> BY_NAME =
            Comparator.comparing(m -> String.valueOf(m.get("name")).toLowerCase(Locale.ROOT));

    private BlueprintParser() {
    }

    public static Blueprint parseToml(String text) {
        TomlParseResult result = Toml.parse(text);
        if (result.hasErrors()) {
            throw BlueprintException.invalid("TOML parse error: " + result.errors().get(0).toString());
        }
        return validate(fromToml(result));
    }

    public static Blueprint parseJson(String text) {
        Object value;
        try {
            value = JSON.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw BlueprintException.invalid("JSON parse error: " + e.getOriginalMessage());
        }
        if (!(value instanceof Map<?, ?>)) {
            throw BlueprintException.invalid("A blueprint must be a JSON object");
        }
        return validate(castMap(normalizeJson(value)));
    }

    private static Map<String, Object> fromToml(TomlTable table) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (String key : table.keySet()) {
            map.put(key, fromToml(table.get(List.of(key))));
        }
        return map;
    }

    private static Object fromToml(Object value) {
        if (value instanceof TomlTable table) {
            return fromToml(table);
        }
        if (value instanceof TomlArray array) {
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < array.size(); i++) {
                list.add(fromToml(array.get(i)));
            }
            return list;
        }
        return value;
    }

    private static Object normalizeJson(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), normalizeJson(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            return new ArrayList<>(list.stream().map(BlueprintParser::normalizeJson).toList());
        }
        if (value instanceof Integer || value instanceof Short || value instanceof BigInteger) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigDecimal || value instanceof Float) {
            return ((Number) value).doubleValue();
        }
        return value;
    }

    /** Checks and normalizes a parsed document into a {@link Blueprint}. */
    static Blueprint validate(Map<String, Object> doc) {
        List<String> errors = new ArrayList<>();
        for (String key : doc.keySet()) {
            String lower = key.toLowerCase(Locale.ROOT);
            if (!key.equals(lower) && CASED_KEYS.contains(lower)) {
                errors.add(key + " should be " + lower);
            }
        }
        Object name = doc.get("name");
        if (name == null) {
            errors.add("Missing 'name'");
        } else if (!(name instanceof String)) {
            errors.add("'name' must be a string");
        }
        Object description = doc.getOrDefault("description", "");
        if (!(description instanceof String)) {
            errors.add("'description' must be a string");
        }
        Object version = doc.get("version");
        if (version != null && !(version instanceof String s && SemVer.isValid(s))) {
            errors.add("Invalid 'version', must use Semantic Versioning");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        out.put("description", description);
        if (version != null) {
            out.put("version", version);
        }
        doc.forEach((k, v) -> {
            if (!KNOWN_KEYS.contains(k) && !(v instanceof Map) && !isTableList(v)) {
                out.put(k, v);
            }
        });
        out.put("modules", items(doc, "modules", true, errors));
        out.put("packages", items(doc, "packages", true, errors));
        out.put("groups", items(doc, "groups", false, errors));
        if (doc.containsKey("customizations")) {
            out.put("customizations", customizations(doc.get("customizations"), errors));
        }
        doc.forEach((k, v) -> {
            if (!KNOWN_KEYS.contains(k) && (v instanceof Map || isTableList(v))) {
                out.put(k, v);
            }
        });
        if (doc.containsKey("repos")) {
            out.put("repos", doc.get("repos"));
        }
        if (!errors.isEmpty()) {
            throw BlueprintException.invalid(String.join("\n", errors));
        }
        if (!BlueprintNames.isValid((String) name)) {
            throw new BlueprintException(BlueprintException.Kind.INVALID_NAME, "Invalid characters in API path");
        }
        return new Blueprint(out);
    }

    private static boolean isTableList(Object value) {
        return value instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(Map.class::isInstance);
    }

    private static List<Map<String, Object>> items(Map<String, Object> doc, String key, boolean versioned,
            List<String> errors) {
        Object value = doc.get(key);
        List<Map<String, Object>> items = new ArrayList<>();
        if (value == null) {
            return items;
        }
        if (!(value instanceof List<?> list)) {
            errors.add("'" + key + "' must be a list");
            return items;
        }
        List<String> itemErrors = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> raw)) {
                itemErrors.add((i + 1) + " is not a table");
                continue;
            }
            Map<String, Object> item = new LinkedHashMap<>(castMap(raw));
            if (!(item.get("name") instanceof String s) || s.isBlank()) {
                itemErrors.add((i + 1) + " is missing 'name'");
                continue;
            }
            if (versioned) {
                Object v = item.get("version");
                if (v == null) {
                    item.put("version", "*");
                } else if (!(v instanceof String)) {
                    itemErrors.add((i + 1) + " 'version' must be a string");
                    continue;
                }
            }
            items.add(item);
        }
        if (!itemErrors.isEmpty()) {
            errors.add("'" + key + "' errors:\n" + String.join("\n", itemErrors));
        }
        items.sort(BY_NAME);
        return items;
    }

    private static Object customizations(Object value, List<String> errors) {
        if (value instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> first) {
            value = first; // lorax accepted [[customizations]] and used its first element
        }
        if (!(value instanceof Map<?, ?> raw)) {
            errors.add("'customizations' must be a table");
            return value;
        }
        Map<String, Object> c = castMap(raw);
        if (c.containsKey("kernel") && !(c.get("kernel") instanceof Map<?, ?> k && k.get("append") instanceof String)) {
            errors.add("'customizations.kernel' must have an 'append' string");
        }
        requireKeys(c, "sshkey", List.of("user", "key"), errors);
        requireKeys(c, "user", List.of("name"), errors);
        requireKeys(c, "group", List.of("name"), errors);
        for (String key : NON_EMPTY_TABLES) {
            if (c.containsKey(key) && !(c.get(key) instanceof Map<?, ?> m && !m.isEmpty())) {
                errors.add("'customizations." + key + "' must be a non-empty table");
            }
        }
        if (c.get("firewall") instanceof Map<?, ?> fw && fw.containsKey("services")
                && !(fw.get("services") instanceof Map<?, ?> s && !s.isEmpty())) {
            errors.add("'customizations.firewall.services' must be a non-empty table");
        }
        if (c.containsKey("hostname") && !(c.get("hostname") instanceof String)) {
            errors.add("'customizations.hostname' must be a string");
        }
        return c;
    }

    private static void requireKeys(Map<String, Object> c, String key, List<String> required, List<String> errors) {
        if (!c.containsKey(key)) {
            return;
        }
        if (!(c.get(key) instanceof List<?> list)) {
            errors.add("'customizations." + key + "' must be a list of tables");
            return;
        }
        for (int i = 0; i < list.size(); i++) {
            for (String field : required) {
                if (!(list.get(i) instanceof Map<?, ?> m && m.get(field) instanceof String)) {
                    errors.add("'customizations." + key + "' " + (i + 1) + " is missing '" + field + "'");
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object map) {
        return (Map<String, Object>) map;
    }
}
