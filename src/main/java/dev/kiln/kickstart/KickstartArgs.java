package dev.kiln.kickstart;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One kickstart command line split into its words and {@code --name=value} options (double quotes honoured);
 * {@code options} has the last value of each option, {@code all} every option in order (for those that repeat,
 * such as {@code firewall --port=}).
 */
public record KickstartArgs(String command, List<String> words, Map<String, String> options,
        List<Map.Entry<String, String>> all) {

    public static KickstartArgs parse(String line) {
        List<String> tokens = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted && c == '\\' && i + 1 < line.length()) {
                cur.append(line.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                any = true;
            } else if (!quoted && Character.isWhitespace(c)) {
                if (any || cur.length() > 0) {
                    tokens.add(cur.toString());
                }
                cur.setLength(0);
                any = false;
            } else {
                cur.append(c);
            }
        }
        if (any || cur.length() > 0) {
            tokens.add(cur.toString());
        }
        List<String> words = new ArrayList<>();
        Map<String, String> options = new LinkedHashMap<>();
        List<Map.Entry<String, String>> all = new ArrayList<>();
        for (String t : tokens.isEmpty() ? List.<String>of() : tokens.subList(1, tokens.size())) {
            if (t.startsWith("--")) {
                int eq = t.indexOf('=');
                String name = eq < 0 ? t.substring(2) : t.substring(2, eq);
                String value = eq < 0 ? "" : t.substring(eq + 1);
                options.put(name, value);
                all.add(Map.entry(name, value));
            } else {
                words.add(t);
            }
        }
        return new KickstartArgs(tokens.isEmpty() ? "" : tokens.get(0), words, options, List.copyOf(all));
    }

    /** Every value given to a repeatable option, in order. */
    public List<String> every(String option) {
        return all.stream().filter(e -> e.getKey().equals(option)).map(Map.Entry::getValue).toList();
    }

    public List<String> list(String option) {
        String v = options.get(option);
        return v == null || v.isEmpty() ? List.of() : List.of(v.split(","));
    }
}
