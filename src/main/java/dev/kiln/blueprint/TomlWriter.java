package dev.kiln.blueprint;

import java.time.temporal.TemporalAccessor;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Writes a document of maps, lists and scalars as TOML: plain keys first, then tables, then arrays of tables. */
public final class TomlWriter {

    private static final Pattern BARE_KEY = Pattern.compile("[A-Za-z0-9_-]+");

    private TomlWriter() {
    }

    public static String write(Map<String, Object> document) {
        StringBuilder out = new StringBuilder();
        table(out, "", document);
        return out.toString();
    }

    private static void table(StringBuilder out, String prefix, Map<String, Object> map) {
        map.forEach((k, v) -> {
            if (v != null && !(v instanceof Map) && !isTableArray(v)) {
                out.append(key(k)).append(" = ");
                value(out, v);
                out.append('\n');
            }
        });
        map.forEach((k, v) -> {
            String path = prefix.isEmpty() ? key(k) : prefix + "." + key(k);
            if (v instanceof Map<?, ?> sub) {
                out.append('\n').append('[').append(path).append("]\n");
                table(out, path, cast(sub));
            } else if (isTableArray(v)) {
                for (Object item : (List<?>) v) {
                    out.append('\n').append("[[").append(path).append("]]\n");
                    table(out, path, cast(item));
                }
            }
        });
    }

    private static boolean isTableArray(Object v) {
        return v instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(Map.class::isInstance);
    }

    private static void value(StringBuilder out, Object v) {
        if (v instanceof String s) {
            string(out, s);
        } else if (v instanceof Boolean || v instanceof Long || v instanceof Integer) {
            out.append(v);
        } else if (v instanceof Double d) {
            out.append(d.isNaN() ? "nan" : d.isInfinite() ? (d > 0 ? "inf" : "-inf") : d.toString());
        } else if (v instanceof TemporalAccessor) {
            out.append(v);
        } else if (v instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                out.append(i == 0 ? "" : ", ");
                value(out, list.get(i));
            }
            out.append(']');
        } else if (v instanceof Map<?, ?> map) {
            out.append('{');
            int i = 0;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (e.getValue() == null) {
                    continue;
                }
                out.append(i++ == 0 ? " " : ", ").append(key(String.valueOf(e.getKey()))).append(" = ");
                value(out, e.getValue());
            }
            out.append(" }");
        } else {
            string(out, String.valueOf(v));
        }
    }

    private static String key(String k) {
        if (BARE_KEY.matcher(k).matches()) {
            return k;
        }
        StringBuilder out = new StringBuilder();
        string(out, k);
        return out.toString();
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        out.append(String.format("\\u%04X", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object map) {
        return (Map<String, Object>) map;
    }
}
